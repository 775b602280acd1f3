from django.apps import AppConfig


class StudioConfig(AppConfig):
    """The instructor's pages: banks, questions, exams, item analysis and learner reports."""

    name = "quizapp.studio"
    verbose_name = "Instructor studio"
