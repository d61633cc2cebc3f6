"""One pattern for the names that end up in paths: model slugs and version labels.

They name files inside documents and evidence packs (``documents/SR117-<slug>-<label>-….pdf``)
and the references auditors look documents up by, so a label such as
``../../../../tmp/zipslip`` would climb out of the directory a pack is unpacked into. A name is
letters, digits, ``.``, ``-``, ``_`` and ``+`` (semantic versions with build metadata, e.g.
``1.0.0+build.7``), starts with a letter or a digit (so never ``.`` or ``..``, never a hidden
file, never an option), and has no separator of any kind. The model (field validators, so the
admin's forms too), the API's serializers and the database (a check constraint on each
column, ``name_check``) all check this one pattern; file names are built only through
:func:`checked`.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db.models import Q

# \A and \Z, not ^ and $: in Python "$" also matches before a final newline. Both Python and
# PostgreSQL read \A and \Z as the very start and end of the string.
NAME_PATTERN = r"\A[A-Za-z0-9][A-Za-z0-9._+-]*\Z"
NAME_RULE = (
    "Use letters, digits, '.', '-', '_' and '+' only, starting with a letter or a digit "
    "(no '/', '\\', spaces or '..' at the start)."
)

validate_name = RegexValidator(NAME_PATTERN, NAME_RULE, code="invalid_name")


def name_check(field: str) -> Q:
    """The database's half of the rule, for a ``CheckConstraint`` on ``field`` (Django's regex
    lookup works on SQLite and PostgreSQL alike)."""
    return Q(**{f"{field}__regex": NAME_PATTERN})


def checked(name: str) -> str:
    """``name`` if it follows the pattern, for building a file name or a reference from it;
    otherwise a ``ValidationError`` (a record that predates the rule never reaches a path)."""
    validate_name(name)
    return name


def is_valid_name(name: str) -> bool:
    try:
        validate_name(name)
    except ValidationError:
        return False
    return True
