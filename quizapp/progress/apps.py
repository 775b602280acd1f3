from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "quizapp.progress"
    label = "progress"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)
