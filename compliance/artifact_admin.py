"""Model artifacts in the admin: a developer uploads a version's skops file (with an optional
background sample); every check of the API applies and a refusal is shown on the form. Stored
artifacts are read-only for everybody.

Registered on import; ``compliance.admin`` imports this module.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin

from compliance import artifacts
from compliance.models import ModelArtifact, ModelVersion


class ArtifactUploadForm(forms.ModelForm):
    file = forms.FileField(
        label="skops file", help_text="The file whose SHA-256 the version's bundle pins."
    )
    background_file = forms.FileField(
        label="background sample",
        required=False,
        help_text="About 100 training rows (CSV with a header, or a JSON list of objects). "
        "Without it the version's drift baselines give 10 training quantiles.",
    )

    class Meta:
        model = ModelArtifact
        fields = ["version"]

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["version"].queryset = ModelVersion.objects.filter(
            artifact__isnull=True
        ).select_related("model")
        self.prepared: artifacts.PreparedArtifact | None = None

    def clean(self):
        data = super().clean()
        version, upload = data.get("version"), data.get("file")
        if version is None or upload is None:
            return data
        try:
            background = None
            if data.get("background_file"):
                given = data["background_file"]
                background = artifacts.read_background(given.name, given.read())
            self.prepared = artifacts.prepare_artifact(
                version, upload.read(), actor=self.user, background=background
            )
        except artifacts.ArtifactRefused as refused:
            field = "background_file" if refused.field == "background" else "file"
            raise forms.ValidationError({field: str(refused)}) from refused
        return data


@admin.register(ModelArtifact)
class ModelArtifactAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "short_sha256",
        "size",
        "estimator",
        "explainer",
        "output_space",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["version__model", "explainer"]
    list_select_related = ["version", "version__model", "uploaded_by"]
    search_fields = ["=sha256", "version__model__slug", "version__label"]
    readonly_fields = [
        "version",
        "sha256",
        "size",
        "estimator",
        "features",
        "explainer",
        "output_space",
        "background_source",
        "background_sha256",
        "uploaded_by",
        "uploaded_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["version", "file", "background_file"]
        return self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        form = ArtifactUploadForm

        class UploadForm(form):
            def __init__(self, *args, **kw) -> None:
                super().__init__(*args, user=request.user, **kw)

        return UploadForm

    def save_model(self, request, obj, form, change) -> None:
        saved = artifacts.save_artifact(form.prepared, request.user)
        obj.pk, obj.sha256 = saved.pk, saved.sha256
        obj._state.adding = False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="SHA-256")
    def short_sha256(self, obj: ModelArtifact) -> str:
        return f"{obj.sha256[:16]}…"
