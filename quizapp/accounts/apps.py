from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "quizapp.accounts"
    label = "accounts"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import mark_session_renewed

        user_logged_in.connect(mark_session_renewed, dispatch_uid="quizapp-session-renewed")
