from django.urls import path

from . import views

app_name = "progress"

urlpatterns = [
    path("history/export.csv", views.history_csv, name="history_csv"),
    path("review/", views.review_session, name="review"),
    path("practice/smart/", views.smart_drill, name="smart_drill"),
    path("practice/domain/<int:area_id>/", views.area_drill, {"kind": "domain"}, name="domain_drill"),
    path("practice/topic/<int:area_id>/", views.area_drill, {"kind": "topic"}, name="topic_drill"),
    path("notes/", views.notes, name="notes"),
    path("notes/<int:note_id>/practice/", views.note_drill, name="note_drill"),
]
