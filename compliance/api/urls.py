from django.urls import path

from . import views

model_list = views.AIModelViewSet.as_view({"get": "list", "post": "create"})
model_detail = views.AIModelViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update"}
)
version_list = views.ModelVersionViewSet.as_view({"get": "list", "post": "create"})
version_detail = views.ModelVersionViewSet.as_view(
    {"get": "retrieve", "put": "update", "patch": "partial_update"}
)

urlpatterns = [
    path("models/", model_list, name="model-list"),
    path("models/<slug:slug>/", model_detail, name="model-detail"),
    path("models/<slug:model_slug>/versions/", version_list, name="version-list"),
    path("models/<slug:model_slug>/versions/<str:label>/", version_detail, name="version-detail"),
]
