"""Celery for scheduled and heavy work (reports, documents), over Redis.

Production runs ``celery -A compliance worker`` on any number of machines and one
``celery -A compliance beat`` (django-celery-beat keeps the schedule in the database). The
embedded default needs none of this: ``manage.py run_scheduler`` does the same in one process.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance.settings")

app = Celery("attest")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
