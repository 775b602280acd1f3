from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "quizapp.groups"
    label = "study_groups"  # "groups" would clash with django.contrib.auth's Group in reverse accessors
    verbose_name = "Study groups"
