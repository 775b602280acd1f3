"""Study group pages. Each view checks who may reach the group first, then makes one service call."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from quizapp.accounts.access import instructor_required
from quizapp.audit.models import AuditEvent
from quizapp.audit.queries import page_context
from quizapp.exams.services import StartRefused

from . import queries, services
from .access import (
    live_sitting,
    member_assignment,
    own_membership,
    owned_group,
    taught_assignment,
    taught_group,
)
from .forms import (
    AccommodationForm,
    AssignmentForm,
    ExtendForm,
    GroupForm,
    GroupSettingsForm,
    JoinForm,
    OptInForm,
    UsernameForm,
)
from .models import Membership, Seat, Sitting, StudyGroup

FORM_METHODS = ["GET", "HEAD", "POST"]


def _is_teacher(user):
    return user.is_instructor or user.is_staff


# --- Groups ---------------------------------------------------------------------------------------------------


@login_required
@require_safe
def home(request):
    now = timezone.now()
    context = {
        "joined": queries.member_home(user=request.user, now=now),
        "join_form": JoinForm(),
        "taught": StudyGroup.objects.taught_by(request.user).select_related("owner")
        if _is_teacher(request.user)
        else [],
    }
    return render(request, "groups/home.html", context)


@instructor_required
@require_http_methods(FORM_METHODS)
def create(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.group_create(owner=request.user, **form.cleaned_data)
        except services.GroupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Group created. Share the join code {group.join_code} or the invite link.")
            return redirect(group)
    return render(request, "groups/group_form.html", {"form": form})


@login_required
@require_http_methods(FORM_METHODS)
def join(request):
    form = JoinForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        group = StudyGroup.objects.filter(join_code=form.cleaned_data["code"]).first()
        if group is None:
            form.add_error("code", "No group has this code. Check it with your instructor.")
        else:
            return _join(request, group, form=form)
    return render(request, "groups/join.html", {"form": form})


def _join(request, group, *, form=None, template="groups/join.html", extra=None):
    try:
        services.group_join(user=request.user, group=group)
    except services.GroupError as error:
        if form is not None:
            form.add_error(None, str(error))
        else:
            messages.error(request, str(error))
        return render(request, template, {"form": form, **(extra or {})}, status=409 if form is None else 200)
    messages.success(request, f"You joined {group.name}.")
    return redirect(group)


@login_required
@require_http_methods(FORM_METHODS)
def invite(request, token):
    group = StudyGroup.objects.filter(invite_token=token).first()
    if group is None:
        raise Http404("This invite link is not valid any more. Ask your instructor for a new one.")
    if request.method == "POST":
        return _join(request, group, template="groups/invite.html", extra={"group": group})
    is_member = Membership.objects.filter(group=group, user=request.user).exists()
    return render(request, "groups/invite.html", {"group": group, "is_member": is_member})


@login_required
@require_safe
def detail(request, group_id):
    group = StudyGroup.objects.taught_by(request.user).filter(pk=group_id).first()
    if group is not None:
        return _teacher_detail(request, group)
    membership = own_membership(request, group_id)
    return _member_detail(request, membership)


def _teacher_detail(request, group):
    now = timezone.now()
    assignments = list(group.assignments.select_related("blueprint__bank").order_by("opens_at", "pk"))
    live = {s.assignment_id: s for s in Sitting.objects.filter(assignment__in=assignments).exclude(state="ended")}
    for assignment in assignments:
        assignment.live_sitting = live.get(assignment.pk)
        assignment.state = assignment.state_at(now)
    context = {
        "group": group,
        "assignments": assignments,
        "member_count": group.memberships.count(),
        "is_owner": group.owner_id == request.user.pk,
        "invite_url": request.build_absolute_uri(reverse("groups:invite", args=[group.invite_token])),
    }
    return render(request, "groups/teacher_detail.html", context)


def _member_detail(request, membership):
    group = membership.group
    now = timezone.now()
    rows = queries.assignments_for_member(user=request.user, groups=[group], now=now).get(group.pk, [])
    matrix = queries.results_matrix(group=group)
    domains, heat = queries.domain_heatmap(group=group)
    context = {
        "group": group,
        "membership": membership,
        "rows": rows,
        "averages": matrix.averages(),
        "domains": domains,
        "heat": heat,
        "leaderboard": queries.leaderboard(group=group, matrix=matrix) if group.leaderboard_enabled else None,
        "opt_in_form": OptInForm(instance=membership),
    }
    return render(request, "groups/member_detail.html", context)


@login_required
@require_POST
def leave(request, group_id):
    membership = own_membership(request, group_id)
    services.membership_leave(membership=membership)
    messages.success(request, f"You left {membership.group.name}. Your own results stay in your history.")
    return redirect("groups:home")


@login_required
@require_POST
def opt_in(request, group_id):
    membership = own_membership(request, group_id)
    form = OptInForm(request.POST, instance=membership)
    if form.is_valid():
        services.membership_update(membership=membership, leaderboard_opt_in=form.cleaned_data["leaderboard_opt_in"])
        messages.success(
            request, "You are on the leaderboard." if membership.leaderboard_opt_in else "You are off the leaderboard."
        )
    return redirect(membership.group)


@login_required
@require_http_methods(FORM_METHODS)
def settings_view(request, group_id):
    group = owned_group(request, group_id)
    form = GroupSettingsForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        services.group_update(group=StudyGroup.objects.get(pk=group.pk), **form.cleaned_data)
        messages.success(request, "Group settings saved.")
        return redirect("groups:settings", group.pk)
    invite_url = request.build_absolute_uri(reverse("groups:invite", args=[group.invite_token]))
    return render(request, "groups/settings.html", {"group": group, "form": form, "invite_url": invite_url})


@login_required
@require_POST
def rotate(request, group_id):
    group = owned_group(request, group_id)
    which = request.POST.get("which")
    if which == "code":
        services.group_rotate_join_code(group=group)
        messages.success(request, f"New join code: {group.join_code}. The old code no longer works.")
    elif which == "link":
        services.group_rotate_invite(group=group)
        messages.success(request, "New invite link made. The old link no longer works.")
    else:
        messages.error(request, "Nothing was changed: choose the code or the link.")
    return redirect("groups:settings", group.pk)


@login_required
@require_http_methods(FORM_METHODS)
def instructors(request, group_id):
    group = owned_group(request, group_id)
    form = UsernameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.co_instructor_add(group=group, username=form.cleaned_data["username"])
        except services.GroupError as error:
            form.add_error("username", str(error))
        else:
            messages.success(request, f"{user.username} now co-instructs this group.")
            return redirect("groups:instructors", group.pk)
    context = {"group": group, "form": form, "co_instructors": group.instructors.order_by("username")}
    return render(request, "groups/instructors.html", context)


@login_required
@require_POST
def instructor_remove(request, group_id, user_id):
    group = owned_group(request, group_id)
    user = get_object_or_404(group.instructors, pk=user_id)
    services.co_instructor_remove(group=group, user=user)
    messages.success(request, f"{user.username} no longer co-instructs this group.")
    return redirect("groups:instructors", group.pk)


@login_required
@require_safe
def audit_trail(request, group_id):
    """The group's part of the audit trail, for its owner."""
    group = owned_group(request, group_id)
    context = {"group": group, **page_context(request, queryset=AuditEvent.objects.filter(group_id=group.pk))}
    return render(request, "groups/audit.html", context)


# --- Members, as their instructors see them -------------------------------------------------------------------


@login_required
@require_safe
def members(request, group_id):
    group = taught_group(request, group_id)
    context = {"group": group, "memberships": group.memberships.select_related("user").order_by("user__username")}
    return render(request, "groups/members.html", context)


@login_required
@require_http_methods(FORM_METHODS)
def member(request, group_id, user_id):
    group = taught_group(request, group_id)
    membership = get_object_or_404(group.memberships.select_related("user"), user_id=user_id)
    form = AccommodationForm(request.POST or None, instance=membership)
    if request.method == "POST" and form.is_valid():
        services.membership_update(membership=membership, **form.cleaned_data)
        messages.success(
            request, f"Extra time for {membership.user.username} saved: it applies to attempts they start from now."
        )
        return redirect("groups:member", group.pk, user_id)
    rows = queries.assignments_for_member(user=membership.user, groups=[group], now=timezone.now()).get(group.pk, [])
    domains, heat = queries.domain_heatmap(group=group, user=membership.user)
    context = {"group": group, "membership": membership, "form": form, "rows": rows, "domains": domains, "heat": heat}
    return render(request, "groups/member.html", context)


@login_required
@require_POST
def member_remove(request, group_id, user_id):
    group = taught_group(request, group_id)
    membership = get_object_or_404(group.memberships.select_related("user"), user_id=user_id)
    services.membership_leave(membership=membership)
    messages.success(request, f"{membership.user.username} was removed from the group.")
    return redirect("groups:members", group.pk)


# --- Assignments ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(FORM_METHODS)
def assignment_edit(request, group_id, assignment_id=None):
    group = taught_group(request, group_id)
    assignment = taught_assignment(request, group_id, assignment_id) if assignment_id else None
    form = AssignmentForm(request.POST or None, instance=assignment, user=request.user)
    if assignment is not None:
        form.fields["blueprint"].disabled = True  # attempts may exist: the exam itself stays what it was
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if assignment is None:
                assignment = services.assignment_create(group=group, **data)
            else:
                data.pop("blueprint", None)
                services.assignment_update(assignment=assignment, **data)
        except services.GroupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Assignment saved.")
            return redirect("groups:assignment", group.pk, assignment.pk)
    return render(request, "groups/assignment_form.html", {"group": group, "form": form, "assignment": assignment})


@login_required
@require_safe
def assignment(request, group_id, assignment_id):
    group = StudyGroup.objects.taught_by(request.user).filter(pk=group_id).first()
    now = timezone.now()
    if group is not None:
        assignment = taught_assignment(request, group_id, assignment_id)
        context = {
            "group": group,
            "assignment": assignment,
            "state": assignment.state_at(now),
            "live_sitting": live_sitting(assignment),
            "past_sittings": assignment.sittings.filter(state=Sitting.State.ENDED)[:10],
        }
        return render(request, "groups/assignment_teacher.html", context)
    membership, assignment = member_assignment(request, group_id, assignment_id)
    [row] = [
        r
        for r in queries.assignments_for_member(user=request.user, groups=[membership.group], now=now)[group_id]
        if r.assignment.pk == assignment.pk
    ]
    rules = services.assignment_rules(assignment=assignment, membership=membership, used=row.used)
    attempts = assignment.attempts().filter(user=request.user).order_by("-started_at")
    context = {
        "group": membership.group,
        "assignment": assignment,
        "row": row,
        "refusal": None if row.open_attempt_id else rules.refusal(now),
        "rules": rules.descriptions(),
        "ends": rules.end_sentence(now),
        "attempts": attempts,
        "live_sitting": row.live_sitting,
    }
    return render(request, "groups/assignment_member.html", context)


@login_required
@require_POST
def assignment_start(request, group_id, assignment_id):
    membership, assignment = member_assignment(request, group_id, assignment_id)
    try:
        attempt = services.assignment_attempt_start(assignment=assignment, user=request.user, now=timezone.now())
    except (StartRefused, ValueError) as error:
        messages.error(request, str(error))
        return redirect("groups:assignment", group_id, assignment_id)
    return redirect(attempt)


# --- Sittings -------------------------------------------------------------------------------------------------


def _sitting(assignment, sitting_id) -> Sitting:
    return get_object_or_404(
        Sitting.objects.select_related("assignment__blueprint", "assignment__group"),
        pk=sitting_id,
        assignment=assignment,
    )


@login_required
@require_POST
def sitting_open(request, group_id, assignment_id):
    assignment = taught_assignment(request, group_id, assignment_id)
    try:
        sitting = services.sitting_open(assignment=assignment, now=timezone.now())
    except services.GroupError as error:
        messages.error(request, str(error))
        return redirect("groups:assignment", group_id, assignment_id)
    messages.success(request, "The lobby is open: members who open the assignment wait there until you start.")
    return redirect("groups:proctor", group_id, assignment_id, sitting.pk)


# How stale the lobby's list of arrivals may get (it polls every 3 s; the start is never delayed by this).
LOBBY_LIST_REFRESH_SECONDS = 10


def _lobby_context(sitting):
    # The poll's token: the version the list shows and when it was rendered (lobby_poll reads both).
    token = f"{sitting.version}.{int(timezone.now().timestamp())}"
    return {"sitting": sitting, "lobby": queries.lobby(sitting=sitting), "lobby_token": token}


@login_required
@require_safe
@never_cache
def lobby(request, group_id, assignment_id, sitting_id):
    membership, assignment = member_assignment(request, group_id, assignment_id)
    sitting = _sitting(assignment, sitting_id)
    now = timezone.now()
    if sitting.state == Sitting.State.ENDED:
        messages.info(request, "This sitting has ended.")
        return redirect("groups:assignment", group_id, assignment_id)
    seat = services.sitting_join(sitting=sitting, user=request.user, now=now)
    if sitting.state == Sitting.State.RUNNING:
        return _enter(request, seat, now)
    context = {"group": membership.group, "assignment": assignment, **_lobby_context(sitting)}
    return render(request, "groups/lobby.html", context)


def _enter(request, seat, now):
    try:
        attempt = services.seat_attempt(seat=seat, now=now)
    except (StartRefused, ValueError, services.GroupError) as error:
        messages.error(request, str(error))
        url = reverse("groups:assignment", args=[seat.sitting.assignment.group_id, seat.sitting.assignment_id])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    # Straight to the question the attempt stands at, not through its resume address: in a sitting's start every
    # member arrives at once, and the resume's extra round trip was one more request each in that second.
    url = reverse("exams:question", args=[attempt.pk, attempt.current_position]) if attempt.is_open else None
    url = url or attempt.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_safe
@never_cache
def lobby_poll(request, group_id, assignment_id, sitting_id):
    """The lobby asks every few seconds: 204 while nothing changed, the list when someone arrived (at most every
    LOBBY_LIST_REFRESH_SECONDS), the exam as soon as the instructor starts."""
    # The common answers from one query that also proves membership: a lobby of 500 asks about 170 times a
    # second. Nothing changed: 204. Only arrivals, and this page's list is younger than the refresh: 204 too, or
    # a large group's steady arrivals would re-render the list on nearly every poll. The start, the end and a
    # non-member take the full path below (the query finds no sitting still in its lobby for them).
    waiting = Sitting.objects.waiting_for(user=request.user, group_id=group_id, assignment_id=assignment_id)
    version = waiting.filter(pk=sitting_id).values_list("version", flat=True).first()
    shown_version, _, shown_at = request.GET.get("v", "").partition(".")
    if version is not None:
        # A timestamp the client sends back; anything but up to 12 ASCII digits counts as "never rendered".
        plausible = shown_at.isascii() and shown_at.isdigit() and len(shown_at) <= 12
        list_age = timezone.now().timestamp() - (int(shown_at) if plausible else 0)
        if shown_version == str(version) or 0 <= list_age < LOBBY_LIST_REFRESH_SECONDS:
            return HttpResponse(status=204)
    else:
        # Started: the sitting's start began the attempt of everyone in the lobby, so the page is only sent to
        # it, from one more query (the member's seat, its open attempt and where it stands).
        entered = (
            Seat.objects.entering(
                user=request.user, group_id=group_id, assignment_id=assignment_id, sitting_id=sitting_id
            )
            .values_list("attempt_id", "attempt__current_position")
            .first()
        )
        if entered:
            return HttpResponseClientRedirect(reverse("exams:question", args=entered))
    membership, assignment = member_assignment(request, group_id, assignment_id)
    sitting = _sitting(assignment, sitting_id)
    now = timezone.now()
    if sitting.state == Sitting.State.ENDED:
        return HttpResponseClientRedirect(reverse("groups:assignment", args=[group_id, assignment_id]))
    seat = services.sitting_join(sitting=sitting, user=request.user, now=now)
    if sitting.state == Sitting.State.RUNNING:
        return _enter(request, seat, now)
    context = {"group": membership.group, "assignment": assignment, **_lobby_context(sitting)}
    return render(request, "groups/lobby.html#lobby", context)


def _proctor_context(request, group, assignment, sitting):
    now = timezone.now()
    rows = queries.proctor_rows(sitting=sitting, now=now)
    seated = [row for row in rows if row.seat_id]
    return {
        "group": group,
        "assignment": assignment,
        "sitting": sitting,
        "rows": rows,
        "token": queries.proctor_token(sitting=sitting, rows=rows),
        "seated": seated,
        "joined_count": len(seated),
        "answering_count": sum(1 for row in rows if row.status == "answering"),
        "finished_count": sum(1 for row in rows if row.submitted),
        "extend_form": ExtendForm(),
        "now": now,
    }


@login_required
@require_safe
@never_cache
def proctor(request, group_id, assignment_id, sitting_id):
    assignment = taught_assignment(request, group_id, assignment_id)
    sitting = _sitting(assignment, sitting_id)
    return render(request, "groups/proctor.html", _proctor_context(request, assignment.group, assignment, sitting))


@login_required
@require_safe
@never_cache
def proctor_poll(request, group_id, assignment_id, sitting_id):
    """The proctor table, polled every few seconds: 204 while what it shows is unchanged (the token)."""
    assignment = taught_assignment(request, group_id, assignment_id)
    sitting = _sitting(assignment, sitting_id)
    context = _proctor_context(request, assignment.group, assignment, sitting)
    if request.GET.get("v") == context["token"]:
        return HttpResponse(status=204)
    return render(request, "groups/proctor.html#live", context)


def _sitting_action(request, group_id, assignment_id, sitting_id, action):
    assignment = taught_assignment(request, group_id, assignment_id)
    sitting = _sitting(assignment, sitting_id)
    try:
        message = action(sitting, timezone.now())
    except services.GroupError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, message)
    return redirect("groups:proctor", group_id, assignment_id, sitting.pk)


@login_required
@require_POST
def sitting_start(request, group_id, assignment_id, sitting_id):
    def start(sitting, now):
        services.sitting_start(sitting=sitting, now=now)
        return "Started: every member's clock began at this moment."

    return _sitting_action(request, group_id, assignment_id, sitting_id, start)


@login_required
@require_POST
def sitting_end(request, group_id, assignment_id, sitting_id):
    def end(sitting, now):
        services.sitting_end(sitting=sitting, now=now)
        return "The sitting has ended: every running attempt was graded as it stood."

    return _sitting_action(request, group_id, assignment_id, sitting_id, end)


def _seat(sitting, request):
    seat_id = request.POST.get("seat", "")
    if not seat_id.isascii() or not seat_id.isdigit():
        raise services.GroupError("Choose a member.")
    seat = Seat.objects.select_related("user", "attempt", "sitting").filter(pk=int(seat_id), sitting=sitting).first()
    if seat is None:
        raise services.GroupError("Choose a member who has joined.")
    return seat


@login_required
@require_POST
def seat_extend(request, group_id, assignment_id, sitting_id):
    def extend(sitting, now):
        form = ExtendForm(request.POST)
        if not form.is_valid():
            raise services.GroupError("Give between 1 and 180 extra minutes.")
        seat = _seat(sitting, request)
        minutes = form.cleaned_data["minutes"]
        services.seat_extend(seat=seat, minutes=minutes, now=now)
        return f"{seat.user.username} has {minutes} more minute(s)."

    return _sitting_action(request, group_id, assignment_id, sitting_id, extend)


@login_required
@require_POST
def seat_close(request, group_id, assignment_id, sitting_id):
    def close(sitting, now):
        seat = _seat(sitting, request)
        services.seat_close(seat=seat, now=now)
        return f"{seat.user.username}'s attempt was closed and graded."

    return _sitting_action(request, group_id, assignment_id, sitting_id, close)


# --- After: debrief and results -------------------------------------------------------------------------------


@login_required
@require_safe
def debrief(request, group_id, assignment_id):
    """The group's answers question by question, hardest first, one per screen for projecting."""
    assignment = taught_assignment(request, group_id, assignment_id)
    attempts = assignment.attempts().filter(user__memberships__group_id=group_id)
    sitting_id = request.GET.get("sitting", "")
    sitting = None
    if sitting_id.isascii() and sitting_id.isdigit():
        sitting = assignment.sittings.filter(pk=int(sitting_id)).first()
        if sitting is not None:
            attempts = attempts.filter(pk__in=sitting.seats.values("attempt_id"))
    questions = queries.debrief(attempts=attempts)
    raw = request.GET.get("n", "1")
    number = int(raw) if raw.isascii() and raw.isdigit() else 1
    number = min(max(number, 1), max(len(questions), 1))
    context = {
        "group": assignment.group,
        "assignment": assignment,
        "sitting": sitting,
        "questions": questions,
        "question": questions[number - 1] if questions else None,
        "number": number,
        "total": len(questions),
        "query": f"sitting={sitting.pk}&" if sitting else "",
    }
    return render(request, "groups/debrief.html", context)


@login_required
@require_safe
def results(request, group_id):
    group = taught_group(request, group_id)
    matrix = queries.results_matrix(group=group)
    domains, heat = queries.domain_heatmap(group=group)
    context = {"group": group, "matrix": matrix, "domains": domains, "heat": heat}
    return render(request, "groups/results.html", context)


def _cell_text(value) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ (or tab/CR) would make it a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@login_required
@require_safe
def results_csv(request, group_id):
    group = taught_group(request, group_id)
    matrix = queries.results_matrix(group=group)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="group-{group.pk}-results.csv"'
    writer = csv.writer(response)
    header = ["member"]
    for a in matrix.assignments:
        title = f"{a.blueprint.title} (closes {timezone.localtime(a.closes_at):%Y-%m-%d %H:%M})"
        header += [f"{title} best %", f"{title} latest %", f"{title} attempts", f"{title} status"]
    writer.writerow([_cell_text(h) for h in header])
    for membership, cells in matrix.rows():
        row = [membership.user.username]
        for cell in cells:
            row += [cell.best, cell.latest, cell.attempts, cell.status]
        writer.writerow([_cell_text(value) for value in row])
    return response
