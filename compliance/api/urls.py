from django.urls import path

from . import explain_views as ev
from . import report_views as rv
from . import views
from . import workflow_views as wv

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

urlpatterns += [
    path("versions/<int:pk>/", wv.VersionStatusView.as_view(), name="version-status"),
    path("versions/<int:pk>/submit/", wv.SubmitView.as_view(), name="version-submit"),
    path(
        "versions/<int:pk>/start-validation/",
        wv.StartValidationView.as_view(),
        name="version-start-validation",
    ),
    path("versions/<int:pk>/approve/", wv.ApproveView.as_view(), name="version-approve"),
    path("versions/<int:pk>/reject/", wv.RejectView.as_view(), name="version-reject"),
    path("versions/<int:pk>/deploy/", wv.DeployView.as_view(), name="version-deploy"),
    path("versions/<int:pk>/retire/", wv.RetireView.as_view(), name="version-retire"),
    path("versions/<int:pk>/timeline/", wv.TimelineView.as_view(), name="version-timeline"),
    path("versions/<int:pk>/reviews/", wv.ReviewListView.as_view(), name="version-reviews"),
    path("versions/<int:pk>/findings/", wv.FindingListView.as_view(), name="version-findings"),
    path(
        "versions/<int:pk>/conditions/",
        wv.ConditionListView.as_view(),
        name="version-conditions",
    ),
    path("findings/<int:pk>/resolve/", wv.ResolveFindingView.as_view(), name="finding-resolve"),
    path("conditions/<int:pk>/meet/", wv.MeetConditionView.as_view(), name="condition-meet"),
    path("models/<slug:slug>/rollback/", wv.RollbackView.as_view(), name="model-rollback"),
    path(
        "models/<slug:slug>/deployments/",
        wv.DeploymentListView.as_view(),
        name="model-deployments",
    ),
    path("oversight/", wv.OversightView.as_view(), name="oversight"),
]

urlpatterns += [
    path("reports/", rv.ReportListView.as_view(), name="report-list"),
    path("reports/<int:pk>/", rv.ReportDetailView.as_view(), name="report-detail"),
    path("reports/<int:pk>/pdf/", rv.ReportPDFView.as_view(), name="report-pdf"),
    path("reports/<int:pk>/content/", rv.ReportContentView.as_view(), name="report-content"),
    path("models/<slug:slug>/reports/", rv.RunReportView.as_view(), name="model-run-report"),
    path("models/<slug:slug>/reports/trends/", rv.TrendsView.as_view(), name="model-trends"),
]

urlpatterns += [
    path("versions/<int:pk>/artifact/", ev.ArtifactView.as_view(), name="version-artifact"),
    path("versions/<int:pk>/importance/", ev.ImportanceView.as_view(), name="version-importance"),
]
