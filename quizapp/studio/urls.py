from django.urls import path

from . import views

app_name = "studio"

urlpatterns = [
    path("", views.home, name="home"),
    path("banks/new/", views.bank_create, name="bank_create"),
    path("banks/<slug:slug>/", views.bank_detail, name="bank"),
    path("banks/<slug:slug>/settings/", views.bank_settings, name="bank_settings"),
    path("banks/<slug:slug>/editors/", views.bank_editors, name="bank_editors"),
    path("banks/<slug:slug>/audit/", views.bank_audit, name="bank_audit"),
    path("banks/<slug:slug>/questions/new/", views.question_edit, name="question_create"),
    path("banks/<slug:slug>/questions/<str:key>/", views.question_detail, name="question"),
    path("banks/<slug:slug>/questions/<str:key>/edit/", views.question_edit, name="question_edit"),
    path("banks/<slug:slug>/questions/<str:key>/status/", views.question_status, name="question_status"),
    path("banks/<slug:slug>/questions/<str:key>/history/", views.question_history, name="question_history"),
    path("banks/<slug:slug>/exams/", views.blueprints, name="blueprints"),
    path("banks/<slug:slug>/exams/new/", views.blueprint_edit, name="blueprint_create"),
    path("banks/<slug:slug>/exams/<slug:blueprint_slug>/", views.blueprint_edit, name="blueprint_edit"),
    path("banks/<slug:slug>/analysis/", views.analysis, name="analysis"),
    path("banks/<slug:slug>/import/", views.import_questions, name="import"),
    path("banks/<slug:slug>/import/<int:draft_id>/", views.import_preview, name="import_preview"),
    path("banks/<slug:slug>/export/", views.export_questions, name="export"),
    path("banks/<slug:slug>/reports/", views.reports, name="reports"),
    path("banks/<slug:slug>/reports/<int:report_id>/close/", views.report_close, name="report_close"),
]
