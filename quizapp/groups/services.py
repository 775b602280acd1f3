"""Writes of study groups. Every function that depends on time takes `now` from its caller (the server's clock)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Count, F

from quizapp import audit
from quizapp.exams import services as exam_services
from quizapp.exams.access import AccessRules, AttemptLimit, ClosesAt, Duration, OpensAt, SharedStart
from quizapp.exams.models import Attempt

from .models import Assignment, Membership, Seat, Sitting, StudyGroup, new_invite_token, new_join_code


class GroupError(Exception):
    """A request about a group that cannot be carried out; the message says why, and nothing was changed."""


# --- Groups and members ---------------------------------------------------------------------------------------


def group_create(*, owner, name: str, description: str = "") -> StudyGroup:
    for _ in range(5):  # a join code is random: on the rare clash, draw another
        try:
            with transaction.atomic():
                group = StudyGroup.objects.create(owner=owner, name=name.strip(), description=description.strip())
                audit.record("group.create", summary=f"Created the group {group.name}", target=group, group_id=group.pk)
                return group
        except IntegrityError:
            continue
    raise GroupError("Could not create a unique join code; please try again.")


def group_update(*, group: StudyGroup, **fields) -> StudyGroup:
    allowed = {"name", "description", "joining_open", "leaderboard_enabled"}
    before = audit.snapshot(StudyGroup.objects.get(pk=group.pk), [name for name in fields if name in allowed])
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(name)
        setattr(group, name, value.strip() if isinstance(value, str) else value)
    with transaction.atomic():
        group.save(update_fields=list(fields))
        if changed := audit.changes(group, before, fields):
            audit.record(
                "group.edit",
                summary=f"{group.name}: {', '.join(changed)} changed",
                target=group,
                detail=changed,
                group_id=group.pk,
            )
    return group


def group_rotate_join_code(*, group: StudyGroup) -> StudyGroup:
    """A new join code: the old one admits no one from now on."""
    for _ in range(5):
        try:
            with transaction.atomic():
                group.join_code = new_join_code()
                group.save(update_fields=["join_code"])
                audit.record(
                    "group.rotate_code", summary=f"{group.name}: new join code", target=group, group_id=group.pk
                )
                return group
        except IntegrityError:
            continue
    raise GroupError("Could not create a unique join code; please try again.")


def group_rotate_invite(*, group: StudyGroup) -> StudyGroup:
    """A new invite link: the old link admits no one from now on."""
    with transaction.atomic():
        group.invite_token = new_invite_token()
        group.save(update_fields=["invite_token"])
        audit.record("group.rotate_invite", summary=f"{group.name}: new invite link", target=group, group_id=group.pk)
    return group


def normalise_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def group_join(*, user, group: StudyGroup) -> Membership:
    """Join a group (idempotent: a member who joins again keeps their membership)."""
    if group.is_taught_by(user):
        raise GroupError("You teach this group, so you are not one of its members.")
    existing = Membership.objects.filter(group=group, user=user).first()
    if existing:
        return existing
    if not group.joining_open:
        raise GroupError("This group is not taking new members. Ask your instructor.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(group=group, user=user)
            audit.record("group.member_join", summary=f"{user.username} joined", target=user, group_id=group.pk)
            return membership
    except IntegrityError:  # a double click: the other request joined first
        return Membership.objects.get(group=group, user=user)


@transaction.atomic
def membership_leave(*, membership: Membership) -> None:
    """A member leaves (or is removed): their attempts stay theirs, in their own history.

    Who did it decides the event: the member themselves left, anyone else (a teacher) removed them.
    """
    user, group_id = membership.user, membership.group_id
    membership.delete()
    actor = audit.context.current().user
    if actor is not None and actor.is_authenticated and actor.pk == user.pk:
        audit.record("group.member_leave", summary=f"{user.username} left", target=user, group_id=group_id)
    else:
        audit.record("group.member_remove", summary=f"{user.username} removed", target=user, group_id=group_id)


ACCOMMODATION_FIELDS = ("extra_time_percent", "extra_time_minutes")


def membership_update(*, membership: Membership, **fields) -> Membership:
    allowed = {"extra_time_percent", "extra_time_minutes", "leaderboard_opt_in"}
    # From the database: a ModelForm may have written the new values onto `membership` already.
    before = audit.snapshot(Membership.objects.get(pk=membership.pk), ACCOMMODATION_FIELDS)
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(name)
        setattr(membership, name, value)
    membership.full_clean()
    with transaction.atomic():
        membership.save(update_fields=list(fields))
        # The member's own leaderboard choice is theirs to make; what a teacher grants is on the trail.
        if changed := audit.changes(membership, before, ACCOMMODATION_FIELDS):
            said = " ".join(f"{name} {old} → {new}" for name, (old, new) in changed.items())
            audit.record(
                "group.accommodation",
                summary=f"{membership.user.username}: {said}",
                target=membership.user,
                detail=changed,
                group_id=membership.group_id,
            )
    return membership


def co_instructor_add(*, group: StudyGroup, username: str):
    User = get_user_model()
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise GroupError(f"No one is called “{username.strip()}”.")
    if not (user.is_instructor or user.is_staff):
        raise GroupError(f"{user.username} is not an instructor. Site staff can make them one.")
    if user.pk == group.owner_id:
        raise GroupError("The owner already teaches this group.")
    with transaction.atomic():
        was_member = Membership.objects.filter(group=group, user=user).delete()[0] > 0  # a teacher is not a member
        group.instructors.add(user)
        audit.record(
            "group.co_instructor_add",
            summary=f"{user.username} co-instructs {group.name}",
            target=user,
            detail={"was_member": was_member},
            group_id=group.pk,
        )
    return user


@transaction.atomic
def co_instructor_remove(*, group: StudyGroup, user) -> None:
    group.instructors.remove(user)
    audit.record(
        "group.co_instructor_remove", summary=f"{user.username} no longer co-instructs", target=user, group_id=group.pk
    )


# --- Assignments ----------------------------------------------------------------------------------------------


def assignment_create(*, group: StudyGroup, blueprint, opens_at, closes_at, attempt_limit, review_policy):
    if closes_at <= opens_at:
        raise GroupError("The closing time must come after the opening time.")
    with transaction.atomic():
        assignment = Assignment.objects.create(
            group=group,
            blueprint=blueprint,
            opens_at=opens_at,
            closes_at=closes_at,
            attempt_limit=attempt_limit,
            review_policy=review_policy,
        )
        audit.record("assignment.create", summary=f"Assigned {blueprint}", target=assignment, group_id=group.pk)
    return assignment


def assignment_update(*, assignment: Assignment, **fields) -> Assignment:
    allowed = {"opens_at", "closes_at", "attempt_limit", "review_policy"}
    before = audit.snapshot(Assignment.objects.get(pk=assignment.pk), [name for name in fields if name in allowed])
    for name, value in fields.items():
        if name not in allowed:
            raise TypeError(name)
        setattr(assignment, name, value)
    if assignment.closes_at <= assignment.opens_at:
        raise GroupError("The closing time must come after the opening time.")
    with transaction.atomic():
        assignment.save(update_fields=list(fields))
        if changed := audit.changes(assignment, before, fields):
            audit.record(
                "assignment.edit",
                summary=f"{assignment.blueprint}: {', '.join(changed)} changed",
                target=assignment,
                detail=changed,
                group_id=assignment.group_id,
            )
    return assignment


def _duration(assignment: Assignment) -> timedelta | None:
    blueprint = assignment.blueprint
    return timedelta(minutes=blueprint.duration_minutes) if blueprint.is_timed else None


def assignment_rules(*, assignment: Assignment, membership: Membership, used: int, seat: Seat | None = None):
    """The access rules of a member's attempt: window, attempt limit, duration with accommodation or a sitting."""
    rules = [
        OpensAt(assignment.opens_at),
        ClosesAt(assignment.closes_at),
        AttemptLimit(assignment.attempt_limit, used),
    ]
    duration = _duration(assignment)
    if duration is not None:
        extra = membership.extra_time_for(duration)
        sitting = seat.sitting if seat else None
        if sitting is not None and sitting.started_at:
            rules.append(SharedStart(sitting.started_at, duration, extra + timedelta(minutes=seat.extra_minutes)))
        else:
            rules.append(Duration(duration, extra))
    return AccessRules(rules)


def attempts_used(*, assignment: Assignment, user) -> int:
    return Attempt.objects.filter(user=user, context=assignment.attempt_context).count()


def _review_opens_at(assignment: Assignment) -> datetime | None:
    return assignment.closes_at if assignment.review_policy == Assignment.ReviewPolicy.AFTER_CLOSE else None


def assignment_attempt_start(*, assignment: Assignment, user, now: datetime, seat: Seat | None = None) -> Attempt:
    """Start (or resume) a member's attempt at an assignment; StartRefused says why not.

    The membership row is locked while the attempts are counted, so concurrent starts cannot pass the limit
    (and the engine's one-open-attempt index stops a second open attempt on any database).
    """
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(group_id=assignment.group_id, user=user)
        rules = assignment_rules(
            assignment=assignment,
            membership=membership,
            used=attempts_used(assignment=assignment, user=user),
            seat=seat,
        )
        review_opens_at = _review_opens_at(assignment)
        started_at = seat.sitting.started_at if seat and seat.sitting.started_at else None
        return exam_services.attempt_start(
            user=user,
            blueprint=assignment.blueprint,
            now=now,
            rules=rules,
            context=assignment.attempt_context,
            started_at=started_at,
            review_opens_at=review_opens_at,
        )


# --- Sittings -------------------------------------------------------------------------------------------------


def _bump(sitting: Sitting) -> None:
    Sitting.objects.filter(pk=sitting.pk).update(version=F("version") + 1)
    sitting.refresh_from_db(fields=["version"])


def sitting_open(*, assignment: Assignment, now: datetime) -> Sitting:
    """Open the lobby of a live sitting (one at a time per assignment)."""
    if not assignment.is_open_at(now):
        raise GroupError("A sitting can only be opened while the assignment is open.")
    try:
        with transaction.atomic():
            sitting = Sitting.objects.create(assignment=assignment, opened_at=now)
            audit.record(
                "sitting.open",
                summary=f"Lobby opened for {assignment.blueprint}",
                target=sitting,
                group_id=assignment.group_id,
            )
            return sitting
    except IntegrityError:
        raise GroupError("A sitting of this assignment is already open.") from None


def sitting_join(*, sitting: Sitting, user, now: datetime) -> Seat:
    """A member arrives in the lobby (or late, after the start): their seat, created once."""
    if not sitting.is_live:
        raise GroupError("This sitting has ended.")
    seat = Seat.objects.filter(sitting=sitting, user=user).first()
    if seat is not None:
        seat.user = user  # known here: the start reads it, and would load it again
        return seat
    try:
        with transaction.atomic():
            seat = Seat.objects.create(sitting=sitting, user=user, joined_at=now)
    except IntegrityError:
        return Seat.objects.get(sitting=sitting, user=user)
    _bump(sitting)
    return seat


def sitting_start(*, sitting: Sitting, now: datetime) -> Sitting:
    """Start everyone's clock at this one server moment; members' attempts begin when their page next asks."""
    with transaction.atomic():
        sitting = Sitting.objects.select_for_update().get(pk=sitting.pk)
        if sitting.state != Sitting.State.LOBBY:
            raise GroupError("This sitting has already started." if sitting.is_live else "This sitting has ended.")
        if not sitting.assignment.is_open_at(now):
            raise GroupError("The assignment is not open, so the sitting cannot start.")
        sitting.state, sitting.started_at = Sitting.State.RUNNING, now
        sitting.version = F("version") + 1
        sitting.save(update_fields=["state", "started_at", "version"])
        started = _seated_attempts_start(sitting=sitting, now=now)
        audit.record(
            "sitting.start",
            summary=f"Sitting of {sitting.assignment.blueprint} started",
            target=sitting,
            detail={"started_at": now, "seats": sitting.seats.count(), "attempts_started": started},
            group_id=sitting.assignment.group_id,
        )
    sitting.refresh_from_db()
    return sitting


def _seated_attempts_start(*, sitting: Sitting, now: datetime) -> int:
    """Start the attempt of every member already in the lobby, all at once; how many were started.

    Their pages then only have to be sent to it: when a large group's lobby sees the start, every member asks
    within the same few seconds, and starting each attempt in its own request was most of what those seconds
    cost. Under the same rules as a member's own start (window, attempt limit, extra time, the shared moment),
    with their memberships locked as that start locks one. Whoever this leaves out (no attempts left, an open
    attempt of their own, a race lost) starts, resumes or is told why not on their own, as a late arrival does.
    """
    assignment = sitting.assignment
    seats = {seat.user_id: seat for seat in sitting.seats.filter(attempt__isnull=True)}
    if not seats:
        return 0
    memberships = Membership.objects.select_for_update().filter(group_id=assignment.group_id, user_id__in=seats)
    used = dict(
        Attempt.objects.filter(user_id__in=seats, context=assignment.attempt_context)
        .order_by()
        .values_list("user_id")
        .annotate(n=Count("id"))
    )
    starts = []
    for membership in memberships:
        seat = seats[membership.user_id]
        seat.sitting = sitting
        rules = assignment_rules(
            assignment=assignment, membership=membership, used=used.get(membership.user_id, 0), seat=seat
        )
        starts.append(exam_services.PlannedStart(user_id=membership.user_id, rules=rules))
    attempts = exam_services.attempts_start_many(
        blueprint=assignment.blueprint,
        starts=starts,
        now=now,
        context=assignment.attempt_context,
        started_at=sitting.started_at,
        review_opens_at=_review_opens_at(assignment),
    )
    for user_id, attempt in attempts.items():
        seats[user_id].attempt = attempt
    Seat.objects.bulk_update([seats[user_id] for user_id in attempts], ["attempt"], batch_size=500)
    return len(attempts)


def seat_attempt(*, seat: Seat, now: datetime) -> Attempt:
    """The member's attempt in a running sitting, started with the sitting's shared start moment."""
    if seat.attempt_id:
        return seat.attempt
    # Read the sitting afresh: the caller's copy may predate the start.
    seat.sitting = sitting = Sitting.objects.select_related("assignment__blueprint__bank").get(pk=seat.sitting_id)
    if sitting.state != Sitting.State.RUNNING:
        raise GroupError("The sitting is not running.")
    attempt = assignment_attempt_start(assignment=sitting.assignment, user=seat.user, now=now, seat=seat)
    Seat.objects.filter(pk=seat.pk, attempt__isnull=True).update(attempt=attempt)
    seat.refresh_from_db(fields=["attempt"])
    _bump(sitting)
    return seat.attempt or attempt


def seat_extend(*, seat: Seat, minutes: int, now: datetime) -> Seat:
    """Give one member extra minutes: their running attempt's deadline moves now (the page learns on its poll)."""
    if not 1 <= minutes <= 180:
        raise GroupError("Give between 1 and 180 extra minutes.")
    with transaction.atomic():
        seat = Seat.objects.select_for_update(of=("self",)).select_related("sitting", "attempt", "user").get(pk=seat.pk)
        if not seat.sitting.is_live:
            raise GroupError("This sitting has ended.")
        old_extra = seat.extra_minutes
        seat.extra_minutes += minutes
        seat.save(update_fields=["extra_minutes"])
        attempt = seat.attempt
        deadline = None
        if attempt is not None and attempt.is_open and attempt.deadline:
            deadline = [attempt.deadline, attempt.deadline + timedelta(minutes=minutes)]
            try:
                exam_services.attempt_set_deadline(attempt_id=attempt.pk, deadline=deadline[1], now=now)
            except exam_services.AttemptClosed:
                raise GroupError(f"{seat.user.username} has already finished.") from None
        audit.record(
            "seat.extend",
            summary=f"{seat.user.username}: +{minutes} min",
            target=seat.user,
            detail={
                "minutes": minutes,
                "extra_minutes": [old_extra, seat.extra_minutes],
                "deadline": deadline,
                "sitting": seat.sitting_id,
            },
            group_id=seat.sitting.assignment.group_id,
        )
    _bump(seat.sitting)
    return seat


@transaction.atomic
def seat_close(*, seat: Seat, now: datetime) -> Attempt | None:
    """Close one member's attempt now: their saved answers are graded."""
    attempt = seat.attempt
    if attempt is None or not attempt.is_open:
        raise GroupError(f"{seat.user.username} has no attempt running.")
    attempt = exam_services.attempt_finish(attempt_id=attempt.pk, now=now, reason=Attempt.FinishReason.CLOSED)
    audit.record(
        "seat.close",
        summary=f"{seat.user.username}: attempt closed",
        target=seat.user,
        detail={"attempt": str(attempt.pk), "sitting": seat.sitting_id, "correct_count": attempt.correct_count},
        group_id=seat.sitting.assignment.group_id,
    )
    _bump(seat.sitting)
    return attempt


def sitting_end(*, sitting: Sitting, now: datetime) -> Sitting:
    """End the sitting for everyone: every attempt still running is graded as it stands."""
    with transaction.atomic():
        sitting = Sitting.objects.select_for_update().get(pk=sitting.pk)
        if not sitting.is_live:
            return sitting
        sitting.state, sitting.ended_at = Sitting.State.ENDED, now
        sitting.version = F("version") + 1
        sitting.save(update_fields=["state", "ended_at", "version"])
        open_ids = list(
            Attempt.objects.open().filter(pk__in=sitting.seats.values("attempt_id")).values_list("pk", flat=True)
        )
        audit.record(
            "sitting.end",
            summary=f"Sitting of {sitting.assignment.blueprint} ended",
            target=sitting,
            detail={"ended_at": now, "attempts_closed": len(open_ids)},
            group_id=sitting.assignment.group_id,
        )
    for attempt_id in open_ids:
        exam_services.attempt_finish(attempt_id=attempt_id, now=now, reason=Attempt.FinishReason.CLOSED)
    sitting.refresh_from_db()
    return sitting
