"""The permissions backend reads in one query exactly what Django's ModelBackend reads in two."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from compliance.backends import RoleBackend
from compliance.choices import Role
from tests.conftest import make_user


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # no permission cache yet


@pytest.mark.parametrize("role", [*Role, None])
def test_each_role_has_the_permissions_model_backend_gives_it(db, role):
    user = make_user("someone", role)
    user.user_permissions.add(Permission.objects.get(codename="view_legalhold"))
    expected = ModelBackend().get_all_permissions(fresh(user))
    assert "compliance.view_legalhold" in expected
    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert RoleBackend().get_all_permissions(user) == expected
    assert len(queries) == 1


def test_superusers_have_every_permission_and_inactive_users_none(db):
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "pw")
    assert len(RoleBackend().get_all_permissions(fresh(boss))) == Permission.objects.count()
    gone = make_user("gone", Role.RISK_OFFICER)
    gone.is_active = False
    assert RoleBackend().get_all_permissions(gone) == set()
    assert not gone.has_perm("audit.change_alert")


def test_has_perm_goes_through_it(db):
    officer = fresh(make_user("rita", Role.RISK_OFFICER))
    assert officer.has_perm("audit.change_alert") and not officer.has_perm("audit.delete_alert")
