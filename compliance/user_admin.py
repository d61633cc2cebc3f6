"""The admin's user pages, with the e-mail address checked (one person, one account): see
``compliance.accounts``. The add page asks for the address too, so it is checked from the
start."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from .accounts import check_email_free


class EmailChecked(forms.ModelForm):
    def clean_email(self) -> str:
        email = (self.cleaned_data.get("email") or "").strip()
        check_email_free(email, self.instance)
        return email


class AttestUserCreationForm(EmailChecked, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        fields = ["username", "email"]


class AttestUserChangeForm(EmailChecked, UserChangeForm):
    pass


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AttestUserAdmin(UserAdmin):
    form = AttestUserChangeForm
    add_form = AttestUserCreationForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
