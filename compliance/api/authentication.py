"""API-key authentication: ``Authorization: Api-Key <prefix>.<secret>``."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from compliance.models import UserAPIKey

KEYWORD = "Api-Key"


class ApiKeyAuthentication(BaseAuthentication):
    """Authenticates a request as the user who owns the API key.

    Keys are stored only as hashes; a revoked or expired key, or one whose user is inactive,
    is refused with 401 and a message that says which.
    """

    def authenticate(self, request: Request):
        header = get_authorization_header(request).decode("latin-1")
        keyword, _, key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        key = key.strip()
        prefix = key.partition(".")[0]
        api_key = UserAPIKey.objects.select_related("user").filter(prefix=prefix).first()
        if api_key is None or not api_key.is_valid(key):
            raise AuthenticationFailed("Invalid API key.")
        if api_key.revoked:
            raise AuthenticationFailed("This API key has been revoked.")
        if api_key.expiry_date is not None and api_key.expiry_date <= timezone.now():
            raise AuthenticationFailed("This API key has expired.")
        if not api_key.user.is_active:
            raise AuthenticationFailed("The user of this API key is inactive.")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents the API-key header in the OpenAPI schema."""

    target_class = ApiKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Send "Api-Key <key>"; keys come from manage.py create_api_key.',
        }
