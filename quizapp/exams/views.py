"""Exam pages. Each view checks access, makes one service call, and renders the page or, for HTMX, its partial."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from quizapp.bank import editing
from quizapp.bank.models import Bank

from . import queries, save_protocol, services
from .access import solo_rules
from .forms import ReportForm, StartForm
from .grading import estimated_scaled_score
from .models import Attempt, AttemptSlot, ExamBlueprint


def own_attempt(request, attempt_id) -> Attempt:
    """The learner's own attempt, or 404: another user's attempt does not exist for them."""
    return get_object_or_404(
        Attempt.objects.for_user(request.user).select_related("blueprint__bank", "chosen_domain"), pk=attempt_id
    )


def own_attempt_row(request, attempt_id) -> Attempt:
    """The learner's own attempt without its exam, bank or domain: an autosave or a flag reads none of them."""
    return get_object_or_404(Attempt.objects.for_user(request.user), pk=attempt_id)


def slot_position_or_404(attempt, position):
    if not 1 <= position <= attempt.question_count:
        raise Http404("No such question in this attempt.")
    return position


@login_required
@require_safe
def catalogue(request):
    blueprints = ExamBlueprint.objects.for_learners().select_related("bank").order_by("bank", "position")
    open_attempts = Attempt.objects.for_user(request.user).open().select_related("blueprint", "chosen_domain")
    return render(request, "exams/catalogue.html", {"blueprints": blueprints, "open_attempts": open_attempts})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def blueprint_detail(request, bank_slug, slug):
    blueprint = get_object_or_404(
        ExamBlueprint.objects.select_related("bank"), bank__slug=bank_slug, slug=slug, is_active=True
    )
    if not blueprint.bank.is_published and not Bank.objects.editable_by(request.user).filter(pk=blueprint.bank_id):
        raise Http404("No such exam.")  # a draft bank's exams are open only to its editors, to try them
    form = StartForm(request.POST if request.method == "POST" else None, blueprint=blueprint)
    if request.method == "POST" and form.is_valid():
        try:
            attempt = services.attempt_start(
                user=request.user, blueprint=blueprint, domain=form.cleaned_data.get("domain"), now=timezone.now()
            )
        except ValueError as error:
            form.add_error(None, str(error))
        else:
            return redirect(attempt)
    open_attempt = Attempt.objects.for_user(request.user).open().filter(blueprint=blueprint, context="").first()
    rules = solo_rules(blueprint=blueprint, user=request.user)
    context = {
        "blueprint": blueprint,
        "form": form,
        "open_attempt": open_attempt,
        "domains": blueprint.bank.domains.all(),
        "rules": rules.descriptions(),
        "ends": rules.end_sentence(timezone.now()),
    }
    return render(request, "exams/blueprint_detail.html", context)


@login_required
@require_safe
@never_cache
def attempt_resume(request, attempt_id):
    """Send the learner where the attempt stands: its current question, or its result once finished."""
    attempt = services.finish_if_overdue(attempt=own_attempt(request, attempt_id), now=timezone.now())
    if not attempt.is_open:
        return redirect("exams:result", attempt.pk)
    return redirect("exams:question", attempt.pk, attempt.current_position)


def question_context(attempt, position, now):
    slot = queries.slot_with_choices(attempt, position)
    return {
        "attempt": attempt,
        "slot": slot,
        "version": slot.question_version,
        "palette": queries.palette_slots(attempt),
        "seconds_left": attempt.seconds_left(now),
        "reveal": attempt.is_practice and slot.is_confirmed,
        "save_token": save_protocol.page_token(attempt_id=attempt.pk, position=position, now=now),
        "previous_position": position - 1 if position > 1 else None,
        "next_position": position + 1 if position < attempt.question_count else None,
    }


@login_required
@require_safe
@never_cache
@vary_on_headers("HX-Request")
def question(request, attempt_id, position):
    now = timezone.now()
    attempt = services.finish_if_overdue(attempt=own_attempt(request, attempt_id), now=now)
    if not attempt.is_open:
        return redirect("exams:result", attempt.pk)
    slot_position_or_404(attempt, position)
    if attempt.deadline and now >= attempt.deadline:
        return redirect("exams:review", attempt.pk)
    services.attempt_set_position(attempt=attempt, position=position, now=now)
    return render(request, "exams/question.html", question_context(attempt, position, now))


def after_answer_redirect(attempt, position, go):
    if go == "next" and position < attempt.question_count:
        return redirect("exams:question", attempt.pk, position + 1)
    if go == "previous" and position > 1:
        return redirect("exams:question", attempt.pk, position - 1)
    if go == "review":
        return redirect("exams:review", attempt.pk)
    if go and go.isascii() and go.isdigit() and 1 <= int(go) <= attempt.question_count:  # a palette button
        return redirect("exams:question", attempt.pk, int(go))
    return redirect("exams:question", attempt.pk, position)


@login_required
@require_POST
@never_cache
def answer(request, attempt_id, position):
    """Autosave one question's answer (HTMX on every click; a plain form post without JavaScript).

    The response says what happened: saved, refused as older than an answer already saved (409), refused
    because time is up (409) or because the request is malformed (400/422). "Saved" is shown only when stored.
    """
    now = timezone.now()
    try:
        given_at = save_protocol.given_at(
            token=request.POST.get("page"),
            elapsed_ms=request.POST.get("elapsed"),
            attempt_id=attempt_id,
            position=position,
            now=now,
        )
        result = services.attempt_save_answer(
            attempt_id=attempt_id,
            owner=request.user,
            position=position,
            choice_ids=request.POST.getlist("choice"),
            given_at=given_at,
            now=now,
        )
    except AttemptSlot.DoesNotExist:
        raise Http404("No such question in your attempts.") from None
    except (save_protocol.BadSaveRequest, services.AttemptClosed, services.AnswerRejected) as error:
        attempt = own_attempt_row(request, attempt_id)  # refusals are rare: read the attempt only for them
        slot_position_or_404(attempt, position)
        status = {services.AttemptClosed: 409, save_protocol.BadSaveRequest: 400}.get(type(error), 422)
        return answer_refused(request, attempt, position, str(error), status=status, closed=status == 409)
    attempt = result.slot.attempt
    if not result.saved:
        message = (
            "an answer you gave later, in another tab or on another device, is already saved. "
            "Reload the page to see it."
        )
        return answer_refused(request, attempt, position, message, status=409)
    if request.htmx:
        context = {
            "attempt": attempt,
            "slot": result.slot,
            "saved": True,
            "seconds_left": attempt.seconds_left(now),  # a group attempt's timer rides along: it may have moved
        }
        return render(request, "exams/question.html#answer_saved", context)
    go = request.POST.get("go")
    if go in ("flag-on", "flag-off"):
        # Without JavaScript the flag button submits the answer form, so a choice not yet saved is kept too.
        try:
            services.attempt_set_flag(attempt_id=attempt.pk, position=position, flagged=go == "flag-on", now=now)
        except services.AttemptClosed as error:
            messages.error(request, str(error))
            return redirect("exams:attempt", attempt.pk)
    if result.slot.is_answered:
        messages.success(request, "Answer saved.")
    else:
        messages.info(request, "No option was chosen, so this question is still unanswered.")
    return after_answer_redirect(attempt, position, go)


def answer_refused(request, attempt, position, message, *, status, closed=False):
    """Say why a save changed nothing: the status line for HTMX, the question page again without JavaScript."""
    if request.htmx:
        context = {"attempt": attempt, "error": message, "closed": closed}
        return render(request, "exams/question.html#answer_status", context, status=status)
    if closed:
        messages.error(request, message)
        return redirect("exams:attempt", attempt.pk)
    context = question_context(attempt, position, timezone.now())
    context["error"] = message
    return render(request, "exams/question.html", context, status=status)


@login_required
@require_POST
@never_cache
def flag(request, attempt_id, position):
    now = timezone.now()
    try:
        slot = services.attempt_set_flag(
            attempt_id=attempt_id,
            owner=request.user,
            position=position,
            flagged=request.POST.get("flagged") == "1",
            now=now,
        )
    except AttemptSlot.DoesNotExist:
        raise Http404("No such question in your attempts.") from None
    except services.AttemptClosed as error:
        messages.error(request, str(error))
        if request.htmx:  # a full navigation, not a result page swapped into the flag button
            return HttpResponseClientRedirect(reverse("exams:attempt", args=[attempt_id]))
        return redirect("exams:attempt", attempt_id)
    if request.htmx:
        return render(request, "exams/question.html#flag_saved", {"attempt": slot.attempt, "slot": slot})
    return redirect("exams:question", attempt_id, position)


@login_required
@require_POST
def check(request, attempt_id, position):
    """Practice mode: lock this answer and show whether it was right, with the explanation."""
    now = timezone.now()
    attempt = own_attempt(request, attempt_id)
    slot_position_or_404(attempt, position)
    try:
        services.attempt_confirm_answer(attempt=attempt, position=position, now=now)
    except (services.AttemptClosed, services.AnswerRejected) as error:
        messages.error(request, str(error))
    return redirect("exams:question", attempt.pk, position)


@login_required
@require_safe
@never_cache
def review(request, attempt_id):
    """The review screen before submitting: unanswered and flagged questions, then submit."""
    now = timezone.now()
    attempt = services.finish_if_overdue(attempt=own_attempt(request, attempt_id), now=now)
    if not attempt.is_open:
        return redirect("exams:result", attempt.pk)
    palette = queries.palette_slots(attempt)
    context = {
        "attempt": attempt,
        "palette": palette,
        "unanswered": [s for s in palette if not s.is_answered],
        "answered_count": sum(1 for s in palette if s.is_answered),
        "flagged": [s for s in palette if s.flagged],
        "seconds_left": attempt.seconds_left(now),
        "time_is_up": bool(attempt.deadline and now >= attempt.deadline),
    }
    return render(request, "exams/review.html", context)


@login_required
@require_safe
@never_cache
def status(request, attempt_id):
    """Whether an attempt changed since the page was drawn (polled by group attempts): 204 while it has not.

    The page sends the deadline it shows; a moved deadline gets the new timer (out of band), and an attempt that
    has ended (time up, or closed by the instructor) sends the browser to the result.
    """
    now = timezone.now()
    attempt = services.finish_if_overdue(attempt=own_attempt(request, attempt_id), now=now)
    if not attempt.is_open:
        return HttpResponseClientRedirect(reverse("exams:result", args=[attempt.pk]))
    shown = request.GET.get("deadline", "")
    current = str(int(attempt.deadline.timestamp())) if attempt.deadline else "none"
    if shown == current:
        return HttpResponse(status=204)
    context = {"attempt": attempt, "seconds_left": attempt.seconds_left(now), "oob": True}
    return render(request, "exams/_status_changed.html", context)


@login_required
@require_safe
@never_cache
def pack(request, attempt_id):
    """Every question of an open attempt without its key, for the exam page to keep working offline (app.js)."""
    now = timezone.now()
    attempt = services.finish_if_overdue(attempt=own_attempt(request, attempt_id), now=now)
    if not attempt.is_open or attempt.is_practice:
        raise Http404("Only a running timed attempt can be answered offline.")
    return JsonResponse(queries.offline_pack(attempt, now=now))


@login_required
@require_POST
def submit(request, attempt_id):
    attempt = own_attempt(request, attempt_id)
    # The server decides whether time ran out (attempt_finish compares with the deadline); the client never says.
    services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    return redirect("exams:result", attempt.pk)


@login_required
@require_safe
@never_cache
def result(request, attempt_id):
    """The score report: score, domains, pace, and a grid of each question's state leading to the answers page.

    It reads no question, choice or explanation (the answers page does): every learner of a group sitting opens
    this page within seconds of submitting.
    """
    now = timezone.now()
    attempt = services.finish_if_overdue(attempt=own_attempt(request, attempt_id), now=now)
    if attempt.is_open:
        return redirect(attempt)
    percent = attempt.score_percent or 0
    # An assignment that shows answers only after it closes: the score now, each question's state and key later.
    review_open = attempt.review_is_open(now)
    cells = queries.result_cells(attempt)
    context = {
        "attempt": attempt,
        "percent": percent,
        "scaled": estimated_scaled_score(percent, pass_mark_percent=attempt.pass_mark_percent),
        "domains": queries.domain_breakdown(attempt),
        "review_open": review_open,
        "cells": cells if review_open else [],
        "counts": queries.review_counts(cells) if review_open else None,
        "answered_count": sum(1 for cell in cells if cell.is_answered),
        # Reversed once: the grid and the pace table append "?show=all#q<n>" to it in the template.
        "answers_url": reverse("exams:answers", args=[attempt.pk]) if review_open else None,
        # An assigned attempt is retaken from its assignment, not from the catalogue.
        "retake_url": None
        if attempt.context
        else reverse("exams:blueprint", args=[attempt.blueprint.bank.slug, attempt.blueprint.slug]),
    }
    return render(request, "exams/result.html", context)


@login_required
@require_safe
@never_cache
def answers(request, attempt_id):
    """The question-by-question review of a finished attempt: choices, key, rationales, explanations and notes."""
    now = timezone.now()
    attempt = services.finish_if_overdue(attempt=own_attempt(request, attempt_id), now=now)
    if attempt.is_open:
        return redirect(attempt)
    if not attempt.review_is_open(now):
        return redirect("exams:result", attempt.pk)  # which says when the answers show
    slots = queries.review_slots(attempt)
    show = request.GET.get("show", "all")
    if show not in queries.REVIEW_FILTERS:
        show = "all"
    keep = queries.REVIEW_FILTERS[show]
    context = {
        "attempt": attempt,
        "slots": [slot for slot in slots if keep(slot)],
        "show": show,
        "counts": queries.review_counts(slots),
    }
    return render(request, "exams/answers.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report(request, attempt_id, position):
    """Report a problem with a question from its review; the bank's editors reply on the learner's dashboard."""
    attempt = own_attempt(request, attempt_id)
    slot_position_or_404(attempt, position)
    if not attempt.review_is_open(timezone.now()):
        raise Http404("Questions are reported from the review, after the exam.")
    slot = attempt.slots.select_related("question_version__question").get(position=position)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        editing.report_create(version=slot.question_version, reporter=request.user, **form.cleaned_data)
        messages.success(
            request, "Thank you: the bank's editors will look at it, and their reply appears on your dashboard."
        )
        return redirect(f"{reverse('exams:answers', args=[attempt.pk])}?show=all#q{position}")
    return render(request, "exams/report.html", {"attempt": attempt, "slot": slot, "form": form})
