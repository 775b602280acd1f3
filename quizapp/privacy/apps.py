from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A learner's own data: the download of everything held about them, and the deletion of their account.

    It sits at the top, above every app that holds something about a person, and has no tables of its own.
    """

    name = "quizapp.privacy"
    verbose_name = "Your own data"
