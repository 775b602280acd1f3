from django.urls import path

from . import views

app_name = "exams"

urlpatterns = [
    path("exams/", views.catalogue, name="catalogue"),
    path("exams/<slug:bank_slug>/<slug:slug>/", views.blueprint_detail, name="blueprint"),
    path("attempts/<uuid:attempt_id>/", views.attempt_resume, name="attempt"),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/", views.question, name="question"),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/answer/", views.answer, name="answer"),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/flag/", views.flag, name="flag"),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/check/", views.check, name="check"),
    path("attempts/<uuid:attempt_id>/status/", views.status, name="status"),
    path("attempts/<uuid:attempt_id>/offline/", views.pack, name="pack"),
    path("attempts/<uuid:attempt_id>/review/", views.review, name="review"),
    path("attempts/<uuid:attempt_id>/submit/", views.submit, name="submit"),
    path("attempts/<uuid:attempt_id>/result/", views.result, name="result"),
    path("attempts/<uuid:attempt_id>/answers/", views.answers, name="answers"),
    path("attempts/<uuid:attempt_id>/questions/<int:position>/report/", views.report, name="report"),
]
