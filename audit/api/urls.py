from django.urls import path

from . import views

urlpatterns = [
    path("predictions/", views.PredictionIngestView.as_view(), name="prediction-ingest"),
    path("outcomes/", views.OutcomeIngestView.as_view(), name="outcome-ingest"),
    path(
        "predictions/<uuid:event_id>/receipt/",
        views.ReceiptView.as_view(),
        name="prediction-receipt",
    ),
    path("predictions/<uuid:event_id>/trail/", views.TrailView.as_view(), name="prediction-trail"),
    path("checkpoints/latest/", views.CheckpointView.as_view(), name="checkpoint-latest"),
    path(
        "checkpoints/latest/note", views.CheckpointNoteView.as_view(), name="checkpoint-latest-note"
    ),
    path("checkpoints/<int:tree_size>/", views.CheckpointView.as_view(), name="checkpoint"),
    path(
        "checkpoints/<int:tree_size>/note",
        views.CheckpointNoteView.as_view(),
        name="checkpoint-note",
    ),
    path(
        "checkpoints/<int:old_size>/consistency/<int:new_size>/",
        views.ConsistencyView.as_view(),
        name="checkpoint-consistency",
    ),
    path(
        "alerts/<int:pk>/acknowledge/",
        views.AcknowledgeAlertView.as_view(),
        name="alert-acknowledge",
    ),
]
