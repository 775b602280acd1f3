from django.apps import AppConfig


class ExamsConfig(AppConfig):
    name = "quizapp.exams"
    label = "exams"
