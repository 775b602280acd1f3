"""The learner's dashboard, history, reviews, drills and notes. Views check access, call one service, render."""

import csv
import logging
import random

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from quizapp.bank.models import Bank, Domain, Note, QuestionReport, Topic
from quizapp.exams.models import Attempt, ExamBlueprint

from . import charts, drills, queries, readiness, review
from .exports import answer_rows
from .forms import HistoryFilterForm

logger = logging.getLogger(__name__)

HISTORY_PER_PAGE = 20
DASHBOARD_CACHE_SECONDS = 600
SEED_LIMIT = 2**31


def pick_bank(request, banks):
    """The bank the page is about: ?bank=<slug> among the learner's banks, else the most recently used."""
    wanted = request.GET.get("bank", "")
    for bank in banks:
        if bank.slug == wanted:
            return bank
    return banks[0] if banks else None


def dashboard_figures(user, bank, now) -> str:
    """The dashboard's charts, weak areas, trends and readiness as HTML: rendered once per new attempt, then cached.

    They change only when an attempt of the bank finishes, so the key carries the count and time of the latest
    finished attempt, the learner's day and time zone (weeks, dates); the timeout bounds what a review time that
    opened meanwhile can leave stale.
    """
    version = queries.stats_version(user, bank)
    day, zone = timezone.localdate(now), timezone.get_current_timezone_name()
    key = f"progress:dashboard:{user.pk}:{bank.pk}:{version}:{day}:{zone}"
    try:
        html = cache.get(key)
    except Exception:  # a shared cache that is away (REDIS_URL) costs a render, not the page
        logger.warning("dashboard figures rendered without the cache: it is unavailable", exc_info=True)
        return render_to_string("progress/_figures.html", figures(user, bank, now))
    if html is None:
        html = render_to_string("progress/_figures.html", figures(user, bank, now))
        cache.set(key, html, DASHBOARD_CACHE_SECONDS)
    return html


def figures(user, bank, now) -> dict:
    """What the dashboard's figures show: seven queries, however many attempts."""
    series = queries.score_history(user, bank)
    timed, drilled = series[ExamBlueprint.Mode.TIMED], series[ExamBlueprint.Mode.PRACTICE]
    pass_mark = timed[-1].pass_mark if timed else 75
    bank_domains = list(Domain.objects.filter(bank=bank).order_by("number"))
    attempts = queries.visible_attempts(user, bank, now)
    domains = queries.domain_stats(user, bank, now, domains=bank_domains, attempts=attempts)
    topics = queries.topic_stats(user, bank, now, attempts=attempts)
    return {
        "bank": bank,
        "timed": timed,
        "timed_chart": charts.score_chart(timed, pass_mark=pass_mark, what="timed exam or set"),
        "drills": drilled,
        "drills_chart": charts.score_chart(drilled, pass_mark=pass_mark, what="practice drill"),
        "domains": [(stat, charts.trend_chart(stat, pass_mark=pass_mark)) for stat in domains],
        "weeks": [start for start, _, _ in domains[0].weekly] if domains else [],
        "weak_domains": queries.weakest(domains, limit=3),
        "weak_topics": queries.weakest(topics, limit=5),
        "readiness": readiness.readiness(user, bank, now, domains=bank_domains, attempts=attempts),
        "pass_mark": pass_mark,
    }


@require_safe
def home(request):
    if not request.user.is_authenticated:
        return render(request, "progress/landing.html")
    now = timezone.now()
    user = request.user
    review.review_cards_catch_up(user)  # before the due count: the latest exam's mistakes are in it
    attempts = Attempt.objects.for_user(user).select_related("blueprint", "chosen_domain")
    banks = queries.learner_banks(user)
    bank = pick_bank(request, banks)
    context = {
        "open_attempts": attempts.open(),
        "recent": attempts.finished().order_by("-finished_at")[:5],
        "reports": QuestionReport.objects.filter(reporter=user).select_related("version__question")[:5],
        "blueprints": ExamBlueprint.objects.for_learners().select_related("bank").order_by("bank", "position"),
        "banks": banks,
        "bank": bank,
        "week": queries.study_this_week(user, now),
        "due_reviews": review.due_cards(user, by=queries.end_of_today(now)).count(),
    }
    if bank is not None:
        context["figures_html"] = dashboard_figures(user, bank, now)
    return render(request, "progress/home.html", context)


@login_required
@require_safe
def history(request):
    form = HistoryFilterForm(request.GET or None, user=request.user)
    filters = form.usable() if form.is_bound else {}
    if form.is_bound and form.errors:
        messages.warning(
            request,
            "Some filters were not understood and are ignored: "
            + ", ".join(form.fields[name].label or name.title() for name in form.errors if name in form.fields)
            + ".",
        )
    attempts = queries.history_attempts(
        request.user,
        blueprint=filters.get("exam"),
        mode=filters.get("mode") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    page = Paginator(attempts, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "attempts": page.object_list, "form": form, "query": query.urlencode()}
    return render(request, "progress/history.html", context)


class _Echo:
    def write(self, value):
        return value


@login_required
@require_safe
def history_csv(request):
    """The learner's own finished attempts and every answer, as CSV (same filters as the history)."""
    form = HistoryFilterForm(request.GET or None, user=request.user)
    filters = form.usable() if form.is_bound else {}
    attempts = queries.history_attempts(
        request.user,
        blueprint=filters.get("exam"),
        mode=filters.get("mode") or "",
        since=filters.get("since"),
        until=filters.get("until"),
    )
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in answer_rows(attempts, now=timezone.now()))
    stamp = timezone.localdate().isoformat()
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-attempts-{stamp}.csv"'
    return response


# --- Review of mistakes ---------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_session(request):
    """The due cards per bank and a button to review them; POST starts (or resumes) the session."""
    now = timezone.now()
    by = queries.end_of_today(now)
    review.review_cards_catch_up(request.user)
    due = review.due_cards(request.user, by=by)
    per_bank = {}
    for card in due.select_related("question__bank"):
        per_bank.setdefault(card.question.bank, []).append(card)
    if request.method == "POST":
        bank = next((b for b in per_bank if b.slug == request.POST.get("bank")), None)
        if bank is None:
            messages.info(request, "Nothing is due for review right now.")
            return redirect("progress:review")
        versions = review.review_session_versions(request.user, bank, by=by)
        attempt = drills.drill_start(
            user=request.user, bank=bank, version_ids=versions, context=review.REVIEW_CONTEXT, now=now
        )
        return redirect(attempt)
    open_review = (
        Attempt.objects.for_user(request.user).open().filter(context=review.REVIEW_CONTEXT).select_related("blueprint")
    )
    next_due = review.ReviewCard.objects.for_user(request.user).filter(due__gt=by).order_by("due").first()
    context = {
        "per_bank": [(bank, len(cards)) for bank, cards in per_bank.items()],
        "open_review": open_review,
        "session_size": review.REVIEW_SESSION_SIZE,
        "next_due": next_due,
    }
    return render(request, "progress/review.html", context)


# --- Drills ---------------------------------------------------------------------------------------------------


def seed_from(value) -> int:
    """The seed a start page drew with (so Start gives the set the page described); junk gets a fresh seed."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 11 and int(value) < SEED_LIMIT:
        return int(value)
    return random.SystemRandom().randrange(SEED_LIMIT)


def published_bank_or_404(slug):
    return get_object_or_404(Bank.objects.published(), slug=slug)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def smart_drill(request):
    now = timezone.now()
    banks = queries.learner_banks(request.user)
    bank = (
        pick_bank(request, banks)
        if request.method != "POST"
        else next((b for b in banks if b.slug == request.POST.get("bank")), None)
    )
    if bank is None:
        raise Http404("No bank to drill.")
    seed = seed_from(request.POST.get("seed") if request.method == "POST" else request.GET.get("seed"))
    plan = drills.smart_plan(request.user, bank, now, seed=seed)
    if request.method == "POST":
        return start_plan(request, bank, plan, context="smart-drill", now=now)
    return render_start(
        request,
        bank=bank,
        plan=plan,
        seed=seed,
        title="Smart drill",
        action=reverse("progress:smart_drill"),
        context="smart-drill",
    )


def render_start(request, *, bank, context, **page):
    """A drill's start page: what it will ask and why, or that the same drill is in progress (Start resumes it)."""
    page["open_attempt"] = (
        Attempt.objects.for_user(request.user).open().filter(blueprint__bank=bank, context=context).first()
    )
    return render(request, "progress/drill_start.html", {"bank": bank, **page})


def start_plan(request, bank, plan, *, context, now):
    if not plan.version_ids:
        messages.info(request, "There are no published questions for this drill yet.")
        return redirect("home")
    attempt = drills.drill_start(user=request.user, bank=bank, version_ids=plan.version_ids, context=context, now=now)
    return redirect(attempt)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def area_drill(request, kind, area_id):
    """A drill of exactly one domain or topic (the weak-areas list links here)."""
    now = timezone.now()
    model = {"domain": Domain, "topic": Topic}[kind]
    area = get_object_or_404(model.objects.select_related("bank"), pk=area_id, bank__status=Bank.Status.PUBLISHED)
    bank = area.bank
    seed = seed_from(request.POST.get("seed") if request.method == "POST" else request.GET.get("seed"))
    plan = drills.area_plan(request.user, bank, now, seed=seed, **{f"{kind}_id": area.pk})
    if request.method == "POST":
        return start_plan(request, bank, plan, context=f"{kind}:{area.pk}", now=now)
    name = f"Domain {area.number}: {area.name}" if kind == "domain" else f"Topic: {area.name}"
    plan.reasons = [
        f"Only questions from {name}.",
        f"{plan.unseen} of the {len(plan.version_ids)} are new to you; the others are ones you missed or answered "
        "longest ago, weighted toward the missed ones.",
    ]
    return render_start(
        request,
        bank=bank,
        plan=plan,
        seed=seed,
        title=f"Drill · {name}",
        action=reverse(f"progress:{kind}_drill", args=[area.pk]),
        context=f"{kind}:{area.pk}",
    )


# --- Notes ----------------------------------------------------------------------------------------------------


@login_required
@require_safe
def notes(request):
    banks = queries.learner_banks(request.user)
    bank = pick_bank(request, banks)
    sections = queries.notes_mastery(request.user, bank, timezone.now()) if bank else []
    return render(request, "progress/notes.html", {"bank": bank, "banks": banks, "sections": sections})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def note_drill(request, note_id):
    now = timezone.now()
    note = get_object_or_404(Note.objects.select_related("bank"), pk=note_id, bank__status=Bank.Status.PUBLISHED)
    plan = drills.area_plan(request.user, note.bank, now, seed=0, note_id=note.pk)
    if request.method == "POST":
        return start_plan(request, note.bank, plan, context=f"note:{note.pk}", now=now)
    plan.reasons = [f"Exactly the {len(plan.version_ids)} published question(s) that cite note [{note.key}]."]
    return render_start(
        request,
        bank=note.bank,
        plan=plan,
        seed=0,
        title=f"Practise note [{note.key}]",
        note=note,
        action=reverse("progress:note_drill", args=[note.pk]),
        context=f"note:{note.pk}",
    )
