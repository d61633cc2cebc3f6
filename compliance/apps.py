from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ComplianceConfig(AppConfig):
    default = True  # this module also holds the admin's config, below
    name = "compliance"
    verbose_name = "Model governance"


class AttestAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Attest's site (the dashboard as its front page)."""

    default = False
    default_site = "compliance.site.AttestAdminSite"
