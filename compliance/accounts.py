"""One person, one account: no two users share an e-mail address, compared without case.

Segregation of duties rests on knowing who someone is; a second account under
``Rita@example.org`` beside ``rita@example.org`` would let one person act twice (submit as one,
approve as the other). Every door that creates or changes users asks :func:`check_email_free`
(the admin's user forms, ``manage.py create_user``), and the database refuses the rest with a
unique index on ``lower(email)`` where the address is not empty (migration
``compliance.0013``). Accounts without an address (service accounts may have none) are not
compared.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError


def email_owner(email: str, user=None):
    """The other user who already has ``email`` (in any case), or None."""
    email = (email or "").strip()
    if not email:
        return None
    others = get_user_model().objects.filter(email__iexact=email)
    if user is not None and user.pk is not None:
        others = others.exclude(pk=user.pk)
    return others.first()


def check_email_free(email: str, user=None) -> None:
    """Refuse ``email`` if another account has it already, in whatever case."""
    owner = email_owner(email, user)
    if owner is not None:
        raise ValidationError(
            f"Another account ({owner.get_username()}) already has the e-mail address "
            f"{email.strip()} (compared without case): one person, one account.",
            code="email_taken",
        )
