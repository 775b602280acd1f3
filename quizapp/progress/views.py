"""The learner's dashboard and history of finished attempts."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from quizapp.bank.models import QuestionReport
from quizapp.exams.models import Attempt, ExamBlueprint


@require_safe
def home(request):
    if not request.user.is_authenticated:
        return render(request, "progress/landing.html")
    attempts = Attempt.objects.for_user(request.user).select_related("blueprint", "chosen_domain")
    context = {
        "open_attempts": attempts.open(),
        "recent": attempts.finished().order_by("-finished_at")[:5],
        "reports": QuestionReport.objects.filter(reporter=request.user).select_related("version__question")[:5],
        "blueprints": ExamBlueprint.objects.for_learners().select_related("bank").order_by("bank", "position"),
    }
    return render(request, "progress/home.html", context)


@login_required
@require_safe
def history(request):
    attempts = (
        Attempt.objects.for_user(request.user)
        .finished()
        .select_related("blueprint", "chosen_domain")
        .order_by("-finished_at")
    )
    return render(request, "progress/history.html", {"attempts": attempts})
