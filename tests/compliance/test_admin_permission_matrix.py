"""Every admin URL × GET and POST × every principal: who gets in, as a table.

The URLs come from the resolver (everything under the admin site's namespace), so an admin
page without a row in ``EXPECTED`` fails the suite ("unlisted admin URL"). The unnamed
patterns are Django's own redirects (``<id>/`` to ``<id>/change/``, and the catch-all to the
login page) and are not listed.

POSTs carry an empty body: a principal that gets past the admin's checks gets the page's
validation answer (the form again, with its errors) and nothing changes between principals.
The workflow steps (``…/act/<step>/``) are called with a step whose form needs a reason.

Principals, in the order of each row's columns: anonymous; the risk officer, validator,
auditor and developer (on the model's team); a developer of another team; a superuser.
What each column holds:

    +  the page (2xx)            -  refused (403)           L  sent to the login page
    >  sent to the front page: an object that does not exist for this reader (or, on the
       login page, someone already logged in)
    ?  not found (404)           x  method not allowed (405)
    →  redirected on (after a POST that did something harmless: e.g. "choose a document")
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from audit.ingest import ingest_outcomes, ingest_predictions
from audit.ledger import raise_alert
from audit.models import Alert, GovernanceEvent, LedgerEntry, OutcomeRecord, PredictionRecord
from compliance.choices import KeyAction, Severity
from compliance.keys import issue_key
from compliance.models import (
    AIModel,
    Condition,
    Finding,
    MonitoringReport,
    ReportSchedule,
    ValidationReview,
)
from modelcards.models import DocumentJob, ModelNarrative
from tests.attacks import doors_support
from tests.audit.conftest import outcome, prediction

doors_superuser = doors_support.doors_superuser  # fixtures
doors_other_developer = doors_support.doors_other_developer
doors_other_model = doors_support.doors_other_model

PRINCIPALS = ["anonymous", "risk_officer", "validator", "auditor", "developer", "other", "super"]

# One symbol per principal, in the order of PRINCIPALS (see the legend above).
EXPECTED: dict[str, tuple[str, str]] = {
    # url name: (GET, POST)     anonymous, risk officer, validator, auditor, developer,
    #                           developer of another team, superuser
    # The admin site itself
    "app_list": ("L + + + + + +", "L + + + + + +"),
    "autocomplete": ("L - - - - - -", "L x x x x x x"),
    "index": ("L + + + + + +", "L + + + + + +"),
    "jsi18n": ("L + + + + + +", "L x x x x x x"),
    "login": ("+ > > > > > >", "+ + + + + + +"),
    "logout": ("> x x x x x x", "> + + + + + +"),
    "password_change": ("L + + + + + +", "L + + + + + +"),
    "password_change_done": ("L + + + + + +", "L x x x x x x"),
    "view_on_site": ("L ? ? ? ? ? ?", "L ? ? ? ? ? ?"),
    # The inventory, versions and the workflow (compliance)
    "compliance_aimodel_act": ("L + - - - - +", "L + - - - - +"),
    "compliance_aimodel_add": ("L + - - - - +", "L + - - - - +"),
    "compliance_aimodel_change": ("L + + + + + +", "L + - - - - +"),
    "compliance_aimodel_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_aimodel_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_aimodel_history": ("L + + + + + +", "L + + + + + +"),
    "compliance_aimodel_overview": ("L + + + + + +", "L + + + + + +"),
    "compliance_aimodel_simple_history": ("L + + + + + +", "L - - - - - -"),
    "compliance_condition_act": ("L - + - - - +", "L - + - - - +"),
    "compliance_condition_add": ("L - - - - - -", "L - - - - - -"),
    "compliance_condition_change": ("L + + + + + +", "L - - - - - -"),
    "compliance_condition_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_condition_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_condition_history": ("L + + + + + +", "L + + + + + +"),
    "compliance_condition_simple_history": ("L + + + + + +", "L - - - - - -"),
    "compliance_deployment_add": ("L - - - - - -", "L - - - - - -"),
    "compliance_deployment_change": ("L > > > > > >", "L - - - - - -"),
    "compliance_deployment_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_deployment_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_deployment_history": ("L > > > > > >", "L > > > > > >"),
    "compliance_finding_act": ("L - + - - - +", "L - + - - - +"),
    "compliance_finding_add": ("L - - - - - -", "L - - - - - -"),
    "compliance_finding_change": ("L + + + + + +", "L - - - - - -"),
    "compliance_finding_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_finding_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_finding_history": ("L + + + + + +", "L + + + + + +"),
    "compliance_finding_simple_history": ("L + + + + + +", "L - - - - - -"),
    "compliance_legalhold_add": ("L - - - - - -", "L - - - - - -"),
    "compliance_legalhold_change": ("L > - > - - >", "L - - - - - -"),
    "compliance_legalhold_changelist": ("L + - + - - +", "L + - + - - +"),
    "compliance_legalhold_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_legalhold_history": ("L > > > > > >", "L > > > > > >"),
    "compliance_modelartifact_add": ("L - - - + + +", "L - - - + + +"),
    "compliance_modelartifact_change": ("L > > > > > >", "L - - - - - -"),
    "compliance_modelartifact_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_modelartifact_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_modelartifact_history": ("L > > > > > >", "L > > > > > >"),
    "compliance_modelversion_act": ("L - + - - - +", "L - + - - - +"),
    "compliance_modelversion_add": ("L - - - + + +", "L - - - + + +"),
    "compliance_modelversion_change": ("L + + + + + +", "L - - - + - +"),
    "compliance_modelversion_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_modelversion_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_modelversion_history": ("L + + + + + +", "L + + + + + +"),
    "compliance_modelversion_simple_history": ("L + + + + + +", "L - - - - - -"),
    "compliance_monitoringreport_add": ("L - - - - - -", "L - - - - - -"),
    "compliance_monitoringreport_change": ("L + + + + + +", "L - - - - - -"),
    "compliance_monitoringreport_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_monitoringreport_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_monitoringreport_history": ("L + + + + + +", "L + + + + + +"),
    "compliance_monitoringreport_trends": ("L + + + + + +", "L + + + + + +"),
    "compliance_reportschedule_add": ("L + - - - - +", "L + - - - - +"),
    "compliance_reportschedule_change": ("L + + + + + +", "L + - - - - +"),
    "compliance_reportschedule_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_reportschedule_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_reportschedule_history": ("L + + + + + +", "L + + + + + +"),
    "compliance_reportschedule_simple_history": ("L + + + + + +", "L - - - - - -"),
    "compliance_userapikey_add": ("L - - - - - +", "L - - - - - +"),
    "compliance_userapikey_change": ("L + - + - - +", "L - - - - - -"),
    "compliance_userapikey_changelist": ("L + - + - - +", "L + - + - - +"),
    "compliance_userapikey_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_userapikey_history": ("L + - + - - +", "L + - + - - +"),
    "compliance_validationqueue_act": ("L - + - - - +", "L - + - - - +"),
    "compliance_validationqueue_add": ("L - - - - - -", "L - - - - - -"),
    "compliance_validationqueue_change": ("L - > - - - >", "L - - - - - -"),
    "compliance_validationqueue_changelist": ("L - + - - - +", "L - + - - - +"),
    "compliance_validationqueue_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_validationqueue_history": ("L > > > > > >", "L > > > > > >"),
    "compliance_validationreview_act": ("L ? ? ? ? ? ?", "L ? ? ? ? ? ?"),
    "compliance_validationreview_add": ("L - - - - - -", "L - - - - - -"),
    "compliance_validationreview_change": ("L + + + + + +", "L - - - - - -"),
    "compliance_validationreview_changelist": ("L + + + + + +", "L + + + + + +"),
    "compliance_validationreview_delete": ("L - - - - - -", "L - - - - - -"),
    "compliance_validationreview_history": ("L + + + + + +", "L + + + + + +"),
    "compliance_validationreview_simple_history": ("L + + + + + +", "L - - - - - -"),
    # The ledger (audit): read-only for everybody; the predictions, outcomes and explanations
    # of other teams' models do not exist for a developer
    "audit_alert_act": ("L + - - - - +", "L + - - - - +"),
    "audit_alert_add": ("L - - - - - -", "L - - - - - -"),
    "audit_alert_change": ("L + + + + + +", "L - - - - - -"),
    "audit_alert_changelist": ("L + + + + + +", "L + + + + + +"),
    "audit_alert_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_alert_history": ("L + + + + + +", "L + + + + + +"),
    "audit_checkpoint_add": ("L - - - - - -", "L - - - - - -"),
    "audit_checkpoint_change": ("L > > > > > >", "L - - - - - -"),
    "audit_checkpoint_changelist": ("L + + + + + +", "L + + + + + +"),
    "audit_checkpoint_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_checkpoint_history": ("L > > > > > >", "L > > > > > >"),
    "audit_explanationrecord_add": ("L - - - - - -", "L - - - - - -"),
    "audit_explanationrecord_change": ("L > > > > > >", "L - - - - - -"),
    "audit_explanationrecord_changelist": ("L + + + + + +", "L + + + + + +"),
    "audit_explanationrecord_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_explanationrecord_history": ("L > > > > > >", "L > > > > > >"),
    "audit_governanceevent_add": ("L - - - - - -", "L - - - - - -"),
    "audit_governanceevent_change": ("L + + + - - +", "L - - - - - -"),
    "audit_governanceevent_changelist": ("L + + + - - +", "L + + + - - +"),
    "audit_governanceevent_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_governanceevent_history": ("L + + + - - +", "L + + + - - +"),
    "audit_ledgerentry_add": ("L - - - - - -", "L - - - - - -"),
    "audit_ledgerentry_change": ("L + - + - - +", "L - - - - - -"),
    "audit_ledgerentry_changelist": ("L + - + - - +", "L + - + - - +"),
    "audit_ledgerentry_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_ledgerentry_history": ("L + - + - - +", "L + - + - - +"),
    "audit_outcomerecord_add": ("L - - - - - -", "L - - - - - -"),
    "audit_outcomerecord_change": ("L + + + + > +", "L - - - - - -"),
    "audit_outcomerecord_changelist": ("L + + + + + +", "L + + + + + +"),
    "audit_outcomerecord_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_outcomerecord_history": ("L + + + + > +", "L + + + + > +"),
    "audit_predictionrecord_add": ("L - - - - - -", "L - - - - - -"),
    "audit_predictionrecord_change": ("L + + + + > +", "L - - - - - -"),
    "audit_predictionrecord_changelist": ("L + + + + + +", "L + + + + + +"),
    "audit_predictionrecord_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_predictionrecord_history": ("L + + + + > +", "L + + + + > +"),
    "audit_verificationrun_add": ("L - - - - - -", "L - - - - - -"),
    "audit_verificationrun_change": ("L - - - - - >", "L - - - - - -"),
    "audit_verificationrun_changelist": ("L - - - - - +", "L - - - - - +"),
    "audit_verificationrun_delete": ("L - - - - - -", "L - - - - - -"),
    "audit_verificationrun_history": ("L > > > > > >", "L > > > > > >"),
    # Documentation (modelcards)
    "modelcards_documentjob_add": ("L - - - - - -", "L - - - - - -"),
    "modelcards_documentjob_change": ("L + + + - - +", "L - - - - - -"),
    "modelcards_documentjob_changelist": ("L + + + - - +", "L + + + - - +"),
    "modelcards_documentjob_delete": ("L - - - - - -", "L - - - - - -"),
    "modelcards_documentjob_history": ("L + + + - - +", "L + + + - - +"),
    "modelcards_generate": ("L + + + + + +", "L + + + + + +"),
    "modelcards_generate_model": ("L + + + + + +", "L → → → - - →"),
    "modelcards_issueddocument_add": ("L - - - - - -", "L - - - - - -"),
    "modelcards_issueddocument_change": ("L > > > > > >", "L - - - - - -"),
    "modelcards_issueddocument_changelist": ("L + + + + + +", "L + + + + + +"),
    "modelcards_issueddocument_delete": ("L - - - - - -", "L - - - - - -"),
    "modelcards_issueddocument_download": ("L ? ? ? ? ? ?", "L ? ? ? ? ? ?"),
    "modelcards_issueddocument_history": ("L > > > > > >", "L > > > > > >"),
    "modelcards_job": ("L + + + - - +", "L + + + - - +"),
    "modelcards_modelnarrative_add": ("L + - - + + +", "L + - - + + +"),
    "modelcards_modelnarrative_change": ("L + + + + + +", "L + - - + - +"),
    "modelcards_modelnarrative_changelist": ("L + + + + + +", "L + + + + + +"),
    "modelcards_modelnarrative_delete": ("L - - - - - -", "L - - - - - -"),
    "modelcards_modelnarrative_history": ("L + + + + + +", "L + + + + + +"),
    "modelcards_modelnarrative_simple_history": ("L + + + + + +", "L - - - - - -"),
    "modelcards_monitoring_report_pdf": ("L + + + + + +", "L + + + + + +"),
    # Superusers only: users and groups, login lockouts, the beat schedule, the key package's keys
    "auth_group_add": ("L - - - - - +", "L - - - - - +"),
    "auth_group_change": ("L - - - - - +", "L - - - - - +"),
    "auth_group_changelist": ("L - - - - - +", "L - - - - - +"),
    "auth_group_delete": ("L - - - - - +", "L - - - - - +"),
    "auth_group_history": ("L - - - - - +", "L - - - - - +"),
    "auth_user_add": ("L - - - - - +", "L - - - - - +"),
    "auth_user_change": ("L - - - - - +", "L - - - - - +"),
    "auth_user_changelist": ("L - - - - - +", "L - - - - - +"),
    "auth_user_delete": ("L - - - - - +", "L - - - - - +"),
    "auth_user_history": ("L - - - - - +", "L - - - - - +"),
    "auth_user_password_change": ("L - - - - - +", "L - - - - - +"),
    "axes_accessattempt_add": ("L - - - - - -", "L - - - - - -"),
    "axes_accessattempt_change": ("L - - - - - >", "L - - - - - >"),
    "axes_accessattempt_changelist": ("L - - - - - +", "L - - - - - +"),
    "axes_accessattempt_delete": ("L - - - - - >", "L - - - - - >"),
    "axes_accessattempt_history": ("L > > > > > >", "L > > > > > >"),
    "axes_accessfailurelog_add": ("L - - - - - -", "L - - - - - -"),
    "axes_accessfailurelog_change": ("L - - - - - >", "L - - - - - >"),
    "axes_accessfailurelog_changelist": ("L - - - - - +", "L - - - - - +"),
    "axes_accessfailurelog_delete": ("L - - - - - >", "L - - - - - >"),
    "axes_accessfailurelog_history": ("L > > > > > >", "L > > > > > >"),
    "axes_accesslog_add": ("L - - - - - -", "L - - - - - -"),
    "axes_accesslog_change": ("L - - - - - >", "L - - - - - >"),
    "axes_accesslog_changelist": ("L - - - - - +", "L - - - - - +"),
    "axes_accesslog_delete": ("L - - - - - >", "L - - - - - >"),
    "axes_accesslog_history": ("L > > > > > >", "L > > > > > >"),
    "django_celery_beat_clockedschedule_add": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_clockedschedule_change": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_clockedschedule_changelist": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_clockedschedule_delete": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_clockedschedule_history": ("L > > > > > >", "L > > > > > >"),
    "django_celery_beat_crontabschedule_add": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_crontabschedule_change": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_crontabschedule_changelist": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_crontabschedule_delete": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_crontabschedule_history": ("L > > > > > >", "L > > > > > >"),
    "django_celery_beat_intervalschedule_add": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_intervalschedule_change": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_intervalschedule_changelist": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_intervalschedule_delete": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_intervalschedule_history": ("L > > > > > >", "L > > > > > >"),
    "django_celery_beat_periodictask_add": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_periodictask_change": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_periodictask_changelist": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_periodictask_delete": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_periodictask_history": ("L > > > > > >", "L > > > > > >"),
    "django_celery_beat_solarschedule_add": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_solarschedule_change": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_solarschedule_changelist": ("L - - - - - +", "L - - - - - +"),
    "django_celery_beat_solarschedule_delete": ("L - - - - - >", "L - - - - - >"),
    "django_celery_beat_solarschedule_history": ("L > > > > > >", "L > > > > > >"),
    "rest_framework_api_key_apikey_add": ("L - - - - - +", "L - - - - - +"),
    "rest_framework_api_key_apikey_change": ("L - - - - - >", "L - - - - - >"),
    "rest_framework_api_key_apikey_changelist": ("L - - - - - +", "L - - - - - +"),
    "rest_framework_api_key_apikey_delete": ("L - - - - - >", "L - - - - - >"),
    "rest_framework_api_key_apikey_history": ("L > > > > > >", "L > > > > > >"),
}

# The step each workflow page is called with (its form needs a reason, so nothing runs).
STEPS = {
    "compliance_aimodel_act": "stop",
    "compliance_modelversion_act": "reject",
    "compliance_validationqueue_act": "reject",
    "compliance_finding_act": "remediated",
    "compliance_condition_act": "met",
    "compliance_validationreview_act": "approve",  # reviews have no steps: 404
    "audit_alert_act": "acknowledge",
}


def admin_urls() -> list[tuple[str, str]]:
    """(name, route) of every named URL of the admin site."""
    found = []

    def walk(patterns, prefix: str, in_admin: bool) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route, in_admin or pattern.namespace == "admin")
            elif isinstance(pattern, URLPattern) and in_admin and pattern.name:
                found.append((pattern.name, route))

    walk(get_resolver().url_patterns, "", False)
    return sorted(found)


def test_every_admin_url_is_in_the_table():
    names = {name for name, _ in admin_urls()}
    unlisted = sorted(names - set(EXPECTED))
    assert not unlisted, f"unlisted admin URL: {', '.join(unlisted)}"
    stale = sorted(set(EXPECTED) - names)
    assert not stale, f"no such admin URL any more: {', '.join(stale)}"


@pytest.fixture
def world(
    version,
    risk_officer,
    validator,
    auditor,
    developer,
    doors_other_developer,
    doors_superuser,
):
    """One object of each kind the admin shows (of the credit-scoring model, whose team is
    ``developer``'s), by admin name; kinds not made here are addressed by an id that does not
    exist."""
    item = prediction()
    ingest_predictions([item])
    result = outcome(item["event_id"])
    ingest_outcomes([result])
    today = timezone.localdate()
    now = timezone.now()
    model = version.model
    finding = Finding.objects.create(
        version=version,
        title="Thin data",
        description="Few young applicants.",
        severity=Severity.LOW,
        owner=developer,
        due_date=today,
        raised_by=validator,
    )
    condition = Condition.objects.create(
        version=version, description="Monitor monthly.", due_date=today, created_by=validator
    )
    review = ValidationReview.objects.create(
        version=version, validator=validator, cycle=1, scope="Everything."
    )
    report = MonitoringReport.objects.create(
        model=model,
        version=version,
        window_start=now - dt.timedelta(days=7),
        window_end=now,
        checks=[],
        thresholds={},
        min_group_size=30,
        results={},
        breaches=[],
        passed=True,
        content_sha256="0" * 64,
        created_at=now,
    )
    key, _ = issue_key(user=developer, models=[model], actions=[KeyAction.READ_TRAIL])
    job = DocumentJob.objects.create(
        kind="model_card", model=model, as_of=today, requested_by=risk_officer
    )
    record = PredictionRecord.objects.get(event_id=item["event_id"])
    objects = {
        "compliance_aimodel": model,
        "compliance_modelversion": version,
        "compliance_validationqueue": version,
        "compliance_finding": finding,
        "compliance_condition": condition,
        "compliance_validationreview": review,
        "compliance_reportschedule": ReportSchedule.objects.create(model=model),
        "compliance_monitoringreport": report,
        "compliance_userapikey": key,
        "modelcards_modelnarrative": ModelNarrative.objects.create(model=model),
        "modelcards_documentjob": job,
        "audit_predictionrecord": record,
        "audit_outcomerecord": OutcomeRecord.objects.get(outcome_id=result["outcome_id"]),
        "audit_ledgerentry": LedgerEntry.objects.get(pk=record.entry_id),
        "audit_governanceevent": GovernanceEvent.objects.filter(model=model).first(),
        "audit_alert": raise_alert(Alert.Kind.DRIFT_BREACH, model=model, message="PSI 0.3"),
        "auth_user": developer,
        "auth_group": Group.objects.first(),
    }
    users = {
        "risk_officer": risk_officer,
        "validator": validator,
        "auditor": auditor,
        "developer": developer,
        "other": doors_other_developer,
        "super": doors_superuser,
    }
    return users, objects, {"job": job, "report": report, "model": model}


def url_of(name: str, route: str, objects: dict, extra: dict) -> str:
    """The route with its parameters filled in from the world's objects."""
    owner = next((k for k in objects if name.startswith(k + "_")), None)
    obj = objects.get(owner)
    model = extra["model"]
    values = {
        "object_id": obj.pk if obj is not None else 0,
        "id": obj.pk if obj is not None else 0,
        "pk": obj.pk if obj is not None else model.pk,
        "step": STEPS.get(name, ""),
        "slug": model.slug,
        "reference": "no-such-document",
        "content_type_id": ContentType.objects.get_for_model(AIModel).pk,
        "app_label": "compliance",
    }
    if name == "modelcards_job":
        values["pk"] = extra["job"].pk
    if name == "modelcards_monitoring_report_pdf":
        values["pk"] = extra["report"].pk
    if name == "app_list":  # a regular expression of every app's label
        return "/admin/compliance/"
    path = route.replace("/^", "/").removesuffix("$")
    if name.endswith("_simple_history"):  # django-simple-history's regular expression
        history_id = obj.history.latest().history_id
        path = path.replace("([^/]+)/history/([^/]+)/", f"{obj.pk}/history/{history_id}/")
    for key, value in values.items():
        for converter in ("path", "int", "str", "slug", "uuid"):
            path = path.replace(f"<{converter}:{key}>", str(value))
        path = path.replace(f"<{key}>", str(value))
    return "/" + path


def symbol(response) -> str:
    code = response.status_code
    if code == 302:
        location = response["Location"]
        if location.startswith("/admin/login/"):
            return "L"
        return ">" if location == "/admin/" else "→"
    if 200 <= code < 300:
        return "+"
    return {403: "-", 404: "?", 405: "x"}.get(code, str(code))


def observe(name: str, route: str, world) -> tuple[str, str]:
    users, objects, extra = world
    url = url_of(name, route, objects, extra)
    seen = {"GET": [], "POST": []}
    for principal in PRINCIPALS:
        client = Client()
        if principal != "anonymous":
            client.force_login(users[principal])
        seen["GET"].append(symbol(client.get(url)))
        seen["POST"].append(symbol(client.post(url, {})))
    return " ".join(seen["GET"]), " ".join(seen["POST"])


@pytest.mark.parametrize(("name", "route"), admin_urls())
def test_who_may_open_and_post_each_admin_page(world, name, route):
    if name not in EXPECTED:
        pytest.fail(f"unlisted admin URL: {name}")
    observed = observe(name, route, world)
    assert observed == EXPECTED[name], f"{name}: GET, POST by {', '.join(PRINCIPALS)}"


def test_every_admin_with_a_history_keeps_it_read_only():
    """One definition of "history is evidence" (``compliance.history_admin.HistoryAdmin``)
    applies to every admin with a simple-history page."""
    from simple_history.admin import SimpleHistoryAdmin

    from compliance.history_admin import HistoryAdmin

    with_history = [a for a in admin.site._registry.values() if isinstance(a, SimpleHistoryAdmin)]
    assert with_history
    assert [a for a in with_history if not isinstance(a, HistoryAdmin)] == []
