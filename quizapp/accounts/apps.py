from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "quizapp.accounts"
    label = "accounts"
