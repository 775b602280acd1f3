from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "quizapp.audit"
    verbose_name = "Audit trail"
