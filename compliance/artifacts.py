"""Model artifacts: upload a version's skops file, check it, load it safely, explain with it.

No pickle anywhere: loading a pickle runs whatever code it names. A skops file is a zip of
JSON and ``.npy`` arrays; ``skops.io.get_untrusted_types`` lists every type in it that skops
does not trust by default (its defaults are scikit-learn, NumPy and SciPy types), and a file
with any such type is refused at upload and again at every load. The upload is refused too
unless the file's SHA-256 is the one the version's bundle pins, so the artifact that explains
decisions is provably the one that was validated.

The file is stored in the database (``ModelArtifact.content``): every web process and worker
reads it from the one place they share, and it is backed up with the ledger it explains.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import skops.io as sio
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.canonical import canonical_sha256
from audit.ledger import record_event
from audit.models import ExplainerProgress
from compliance import explain
from compliance.models import ModelArtifact, ModelVersion
from compliance.roles import outside_team

MAX_ARTIFACT_BYTES = getattr(settings, "ARTIFACT_MAX_BYTES", 256 * 1024 * 1024)
DERIVED_BACKGROUND_ROWS = 10


class ArtifactRefused(Exception):
    """The upload (or a load) was refused; the message says why. ``status`` is the API's."""

    def __init__(self, message: str, *, field: str = "artifact", status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status


def check_uploader(version: ModelVersion, user) -> None:
    """Developers upload artifacts of their own team's models only."""
    if outside_team(user, version.model):
        raise ArtifactRefused(
            f"Only members of the developing team of {version.model.slug} may upload the "
            "artifact of its versions.",
            status=403,
        )


# ---------------------------------------------------------------------------- reading


def read_skops(data: bytes, expected_sha256: str, what: str = "The file") -> Any:
    """The estimator in ``data``, after checking its hash and that skops trusts every type."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise ArtifactRefused(
            f"{what} has SHA-256 {digest}; the bundle pins {expected_sha256}. Upload the exact "
            "file the version was registered with."
        )
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:  # a zip that is not skops, or not a zip at all
        raise ArtifactRefused(f"{what} is not a skops file ({type(exc).__name__}: {exc}).") from exc
    if untrusted:
        raise ArtifactRefused(
            f"{what} holds types that skops does not trust: {', '.join(sorted(untrusted))}. "
            "Only scikit-learn, NumPy and SciPy types are loaded, so that loading a model can "
            "never run code; save a model built from those types."
        )
    try:
        return sio.loads(data)  # trusted=None: skops' default trusted types only
    except Exception as exc:
        raise ArtifactRefused(f"{what} could not be loaded by skops: {exc}") from exc


def describe(estimator: Any) -> str:
    steps = getattr(estimator, "steps", None)
    if steps is None:
        return type(estimator).__name__
    return f"{type(estimator).__name__}({', '.join(type(s).__name__ for _, s in steps)})"[:300]


def model_features(estimator: Any, version: ModelVersion, given: Sequence[str] | None) -> list:
    """The input columns the model reads, in order: its ``feature_names_in_`` or ``given``."""
    fitted = getattr(estimator, "feature_names_in_", None)
    fitted = [str(f) for f in fitted] if fitted is not None else None
    if fitted and given and list(given) != fitted:
        raise ArtifactRefused(
            f"The model reads {fitted}, not {list(given)}.", field="features", status=400
        )
    features = fitted or (list(given) if given else None)
    if not features:
        raise ArtifactRefused(
            "The model was not fitted on named columns: say which input feeds each column, in "
            "order (features).",
            field="features",
        )
    properties = (version.input_schema or {}).get("properties") or {}
    unknown = [f for f in features if properties and f not in properties]
    if unknown:
        raise ArtifactRefused(
            f"The model reads {', '.join(unknown)}, which the input schema of {version} does "
            "not define.",
            field="features",
        )
    return features


def read_background(name: str, data: bytes) -> list[dict[str, Any]]:
    """Reference rows from an uploaded file: a JSON list of objects, or a CSV with a header."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ArtifactRefused("The background is not UTF-8 text.", field="background") from exc
    if name.lower().endswith(".csv"):
        rows: list[dict[str, Any]] = []
        for row in csv.DictReader(io.StringIO(text)):
            rows.append({k: _number(v) for k, v in row.items() if k is not None})
        return rows
    try:
        rows = json.loads(text)
    except ValueError as exc:
        raise ArtifactRefused(
            f"The background is neither CSV nor JSON: {exc}", field="background"
        ) from exc
    if not isinstance(rows, list):
        raise ArtifactRefused("The background must be a list of rows.", field="background")
    return rows


def _number(text: str) -> Any:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


def background_matrix(rows: Sequence[Any], features: Sequence[str]) -> np.ndarray:
    if not rows or len(rows) > explain.MAX_BACKGROUND_ROWS:
        raise ArtifactRefused(
            f"Send 1 to {explain.MAX_BACKGROUND_ROWS:,} background rows (about 100 rows sampled "
            f"from the training data are plenty); got {len(rows)}.",
            field="background",
        )
    if not all(isinstance(r, Mapping) for r in rows):
        raise ArtifactRefused(
            "Each background row must be an object of feature values.", field="background"
        )
    matrix, problems = explain.input_matrix(rows, features)
    bad = [(i, p) for i, p in enumerate(problems) if p]
    if bad:
        i, problem = bad[0]
        raise ArtifactRefused(
            f"Background row {i}: {problem} ({len(bad)} rows have problems).", field="background"
        )
    return matrix


def background_digest(features: Sequence[str], rows: list[list[float]]) -> str:
    return canonical_sha256({"features": list(features), "rows": rows})


# ---------------------------------------------------------------------------- storing


@dataclass(frozen=True)
class PreparedArtifact:
    """An upload that passed every check, ready to store."""

    version: ModelVersion
    data: bytes
    estimator: Any
    features: list[str]
    background: np.ndarray
    background_source: str
    explainer: explain.ModelExplainer


def prepare_artifact(
    version: ModelVersion,
    data: bytes,
    *,
    actor,
    background: Sequence[Any] | None = None,
    features: Sequence[str] | None = None,
) -> PreparedArtifact:
    """Every check of an upload, without storing anything (``ArtifactRefused`` says why)."""
    check_uploader(version, actor)
    if len(data) > MAX_ARTIFACT_BYTES:
        raise ArtifactRefused(
            f"The file is {len(data):,} bytes; the limit is {MAX_ARTIFACT_BYTES:,}.", status=413
        )
    estimator = read_skops(data, version.artifact_sha256)
    names = model_features(estimator, version, features)
    if background:
        matrix = background_matrix(background, names)
        source = f"uploaded sample of {len(matrix)} rows"
    else:
        try:
            matrix = explain.background_from_baselines(
                (version.baselines or {}).get("features") or {}, names, DERIVED_BACKGROUND_ROWS
            )
        except explain.NotExplainable as exc:
            raise ArtifactRefused(
                f"Send background rows (e.g. 100 training rows): they cannot be derived from "
                f"the version's baselines. {exc}",
                field="background",
            ) from exc
        source = f"{len(matrix)} training quantiles from the version's drift baselines"
    try:
        explainer = explain.build_explainer(estimator, names, matrix)
        check = explainer.explain(matrix)
    except explain.NotExplainable as exc:
        raise ArtifactRefused(f"The model cannot be explained: {exc}") from exc
    except Exception as exc:  # the model cannot even score its own background
        raise ArtifactRefused(f"The model failed on the background rows: {exc}") from exc
    if not check.additive.all():
        raise ArtifactRefused(
            f"{explainer.method} does not reproduce the model's output on the background "
            f"(largest error {check.additivity_errors.max():.3g}), so its explanations would "
            "not add up."
        )
    return PreparedArtifact(version, data, estimator, names, matrix, source, explainer)


def store_artifact(
    version: ModelVersion,
    data: bytes,
    *,
    actor,
    background: Sequence[Any] | None = None,
    features: Sequence[str] | None = None,
) -> tuple[ModelArtifact, bool]:
    """Check and store the skops file of ``version``; (artifact, whether it is new).

    ``background``: reference rows (objects of feature values, at most 1,000); without it the
    rows are derived from the version's numeric drift baselines (training quantiles). Refused
    (``ArtifactRefused``) when the hash differs from the bundle's, a type is untrusted, the
    background is bad, or the model cannot be explained additively. Uploading the same file
    again returns the stored artifact. Writes an ``artifact.uploaded`` ledger event and starts
    the background explainer on the version (earlier predictions included).
    """
    existing = ModelArtifact.objects.defer("content").filter(version=version).first()
    if existing is not None and hashlib.sha256(data).hexdigest() == existing.sha256:
        check_uploader(version, actor)
        return existing, False  # the same file again (any other file fails the hash check)
    prepared = prepare_artifact(
        version, data, actor=actor, background=background, features=features
    )
    try:
        return save_artifact(prepared, actor), True
    except IntegrityError:  # a concurrent upload of the same file won
        return ModelArtifact.objects.defer("content").get(version=version), False


def save_artifact(prepared: PreparedArtifact, actor) -> ModelArtifact:
    """Store a checked upload, start explaining the version, and record the event."""
    version, explainer = prepared.version, prepared.explainer
    rows = prepared.background.tolist()
    with transaction.atomic():
        artifact = ModelArtifact.objects.create(
            version=version,
            content=prepared.data,
            sha256=version.artifact_sha256,
            size=len(prepared.data),
            estimator=describe(prepared.estimator),
            features=prepared.features,
            background=rows,
            background_sha256=background_digest(prepared.features, rows),
            background_source=prepared.background_source,
            explainer=explainer.method,
            output_space=explainer.output_space,
            uploaded_by=actor,
            uploaded_at=timezone.now(),
        )
        ExplainerProgress.objects.get_or_create(version=version)
        record_event(
            "artifact.uploaded",
            actor=actor,
            obj=version,
            model=version.model,
            after={
                "artifact_sha256": artifact.sha256,
                "size": artifact.size,
                "estimator": artifact.estimator,
                "features": prepared.features,
                "background_sha256": artifact.background_sha256,
                "background_source": artifact.background_source,
                "explainer": explainer.describe(),
            },
            reason=f"Artifact of {version} uploaded; its predictions are explained by "
            f"{explainer.method} in {explainer.output_space}.",
        )
    return artifact


# ---------------------------------------------------------------------------- loading


@functools.lru_cache(maxsize=16)
def _explainer(version_id: int, sha256: str, background_sha256: str) -> explain.ModelExplainer:
    artifact = ModelArtifact.objects.get(version_id=version_id)
    # Checked again at every load: the stored bytes must still be the pinned, trusted file.
    estimator = read_skops(bytes(artifact.content), sha256, f"The stored artifact of {version_id}")
    rows = artifact.background
    if background_digest(artifact.features, rows) != background_sha256:
        raise ArtifactRefused(f"The stored background of version {version_id} has changed.")
    return explain.build_explainer(estimator, artifact.features, np.asarray(rows, dtype=float))


def explainer_for(artifact: ModelArtifact) -> explain.ModelExplainer:
    """The explainer of a stored artifact, built once per process."""
    return _explainer(artifact.version_id, artifact.sha256, artifact.background_sha256)


def load_model(version: ModelVersion) -> Any:
    """The estimator of a version's stored artifact (hash and trusted types checked)."""
    artifact = ModelArtifact.objects.get(version=version)
    return read_skops(bytes(artifact.content), version.artifact_sha256)
