"""Shared by the attack tests of the admin's and the API's doors (history pages, admin writes,
read scoping): people logged in to the admin, a developer of another team, and the POST body
an attacker sends to an admin form."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms import CheckboxInput, MultiWidget
from django.test import Client, RequestFactory

from compliance.choices import EUAIActCategory, RiskTier, Role
from compliance.models import AIModel
from tests.conftest import make_user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def doors_superuser(db):
    return get_user_model().objects.create_superuser("sam", "sam@example.org", "not-used-here")


@pytest.fixture
def doors_other_model(db, risk_officer):
    return AIModel.objects.create(
        name="Fraud screening",
        slug="fraud-screening",
        risk_tier=RiskTier.LOW,
        eu_ai_act_category=EUAIActCategory.MINIMAL,
        business_owner=risk_officer,
    )


@pytest.fixture
def doors_other_developer(db, doors_other_model):
    """Dora develops fraud screening, not credit scoring."""
    dora = make_user("dora", Role.DEVELOPER)
    doors_other_model.developing_team.add(dora)
    return dora


def _form_value(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return "" if value is None else value


def form_data(obj, user, **changes) -> dict:
    """What the admin's form for ``obj`` holds as ``user`` sees it, with ``changes``: the body
    of a POST that keeps every other field as it is."""
    model_admin = admin.site._registry[type(obj)]
    request = RequestFactory().get("/")
    request.user = user
    form = model_admin.get_form(request, obj)(instance=obj)
    data = {}
    for name, field in form.fields.items():
        value = field.prepare_value(changes[name]) if name in changes else form[name].value()
        widget = getattr(field.widget, "widget", field.widget)  # inside a related-field wrapper
        if isinstance(widget, CheckboxInput):
            if value:
                data[name] = "on"
        elif isinstance(widget, MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{name}_{index}"] = _form_value(part)
        elif isinstance(value, list | tuple):
            data[name] = [_form_value(v) for v in value]
        else:
            data[name] = _form_value(value)
    return data


def history_form_url(obj) -> str:
    """The history page of ``obj`` as it stood at its latest historical record (the "revert"
    page of django-simple-history)."""
    opts = obj._meta
    record = obj.history.latest()
    return f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/history/{record.history_id}/"


def change_form_data(client: Client, url: str, obj, user, **changes) -> dict:
    """``form_data`` plus the (empty) inline formsets that the change page at ``url`` posts."""
    data = form_data(obj, user, **changes)
    page = client.get(url)
    for inline in (page.context or {}).get("inline_admin_formsets", []):
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    return data
