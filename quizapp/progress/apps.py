from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "quizapp.progress"
    label = "progress"
