from django.urls import path

from . import views

app_name = "privacy"

# Mounted under /accounts/ next to the account's own pages.
urlpatterns = [
    path("data/", views.data, name="data"),
    path("data/download/", views.download, name="download"),
    path("delete/", views.delete, name="delete"),
]
