from django.urls import path

from . import views

urlpatterns = [
    path("models/<slug:slug>/documents/", views.ModelDocumentsView.as_view(), name="documents"),
    path("document-jobs/<uuid:pk>/", views.DocumentJobView.as_view(), name="document-job"),
    path(
        "documents/<str:reference>/download/",
        views.DocumentDownloadView.as_view(),
        name="document-download",
    ),
]
