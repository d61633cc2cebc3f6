from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from compliance.artifacts import ArtifactRefused, read_background, store_artifact
from compliance.demo import sha256_file
from compliance.models import ModelVersion


def local_file(uri: str) -> Path | None:
    parsed = urlparse(uri)
    return Path(parsed.path) if parsed.scheme == "file" else None


class Command(BaseCommand):
    help = (
        "Upload a version's skops artifact, with the same checks as the API (the SHA-256 the "
        "bundle pins, trusted types only). By default the file is the version's artifact URI "
        "and the background a sample of its training data, when those are local files."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("model", help="model slug, e.g. credit-scoring")
        parser.add_argument("label", help="version label, e.g. 1.0.0")
        parser.add_argument("path", nargs="?", help="the skops file (default: artifact URI)")
        parser.add_argument(
            "--background",
            help="CSV or JSON of reference rows (default: the training data when it is a local "
            "file matching its pinned SHA-256; else training quantiles from the baselines)",
        )
        parser.add_argument(
            "--background-rows",
            type=int,
            default=100,
            help="rows sampled (with a fixed seed) from the background file",
        )
        parser.add_argument(
            "--as", dest="username", help="who uploads (default: who registered the version)"
        )

    def handle(self, *args, **options) -> None:
        version = (
            ModelVersion.objects.select_related("model", "created_by")
            .filter(model__slug=options["model"], label=options["label"])
            .first()
        )
        if version is None:
            raise CommandError(f"No version {options['label']} of {options['model']}.")
        path = Path(options["path"]) if options["path"] else local_file(version.artifact_uri)
        if path is None or not path.is_file():
            raise CommandError(f"Give the skops file: {version.artifact_uri} is not a local file.")
        actor = version.created_by
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"No user {options['username']}.")
        try:
            artifact, created = store_artifact(
                version,
                path.read_bytes(),
                actor=actor,
                background=self.background(version, options),
            )
        except ArtifactRefused as refused:
            raise CommandError(str(refused)) from refused
        if not created:
            self.stdout.write(f"{version} already has this artifact ({artifact.sha256}).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Stored the artifact of {version} ({artifact.sha256}): {artifact.estimator}, "
                f"explained by {artifact.explainer} in {artifact.output_space} against "
                f"{artifact.background_source}."
            )
        )

    def background(self, version: ModelVersion, options) -> list | None:
        if options["background"]:
            source = Path(options["background"])
        else:
            source = local_file(version.training_data_uri)
            if source is None or not source.is_file():
                return None
            if sha256_file(source) != version.training_data_sha256:
                raise CommandError(f"{source} is not the training data the bundle pins.")
        rows = read_background(source.name, source.read_bytes())
        wanted = options["background_rows"]
        if len(rows) > wanted:
            picked = np.sort(np.random.default_rng(0).choice(len(rows), wanted, replace=False))
            rows = [rows[i] for i in picked]
        return rows
