from django.contrib import admin
from django.urls import include, path

from quizapp.progress import views as progress_views

urlpatterns = [
    path("", progress_views.home, name="home"),
    path("history/", progress_views.history, name="history"),
    path("", include("quizapp.progress.urls")),
    path("accounts/", include("quizapp.accounts.urls")),
    path("accounts/", include("quizapp.privacy.urls")),
    path("studio/", include("quizapp.studio.urls")),
    path("groups/", include("quizapp.groups.urls")),
    path("audit/", include("quizapp.audit.urls")),
    path("", include("quizapp.exams.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "config.views.bad_request"
