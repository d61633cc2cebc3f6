"""Fixtures of the explanation tests (a real credit model, see ``explain_support``)."""

from tests.compliance.explain_support import (  # noqa: F401
    background_rows,
    credit_version,
    skops_file,
    trained,
    uploaded,
)
