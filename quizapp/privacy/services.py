"""Everything the app holds about one person, as a file; and the deletion of their account.

The deletion keeps what others rely on (attempts and their answers feed the bank's item statistics and a group's
averages; memberships and seats keep a group's results whole) and takes the person out of it: the account row is
anonymised in place, so every row that points at it now points at nobody in particular.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import transaction

from quizapp import audit
from quizapp.accounts.models import User
from quizapp.audit.diff import scrub
from quizapp.audit.models import AuditEvent
from quizapp.bank.models import Choice, QuestionReport
from quizapp.exams.models import Attempt, AttemptSlot
from quizapp.groups.models import Membership, Seat

EXPORT_FORMAT = "quizapp-personal-data/1"
DB_SESSIONS = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}

# Tables of the layers above that will hold something per person, exported row by row when they exist: the
# extension point for review cards (progress has no models yet). Each needs a `user` foreign key; add its erasure
# to account_delete as well, or say there why it is kept.
EXTRA_PERSONAL_TABLES = {"review_cards": "progress.ReviewCard"}


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def account_export(*, user: User, now: datetime) -> dict:
    """Everything held about `user`, and nothing of anyone else's, in one JSON-ready dict.

    Eight queries (plus one per extra table) however many attempts there are. Correctness and scores of an
    attempt are left out while its review is closed (in progress, or an assignment that shows answers only after
    it closes), exactly as the result page leaves them out.
    """
    attempts = list(Attempt.objects.filter(user=user).select_related("blueprint__bank").order_by("started_at"))
    slots = AttemptSlot.objects.filter(attempt__user=user).select_related("question_version__question")
    choice_texts = dict(Choice.objects.filter(version__in=slots.values("question_version")).values_list("pk", "text"))
    answers: dict = {}
    review_open = {attempt.pk: attempt.review_is_open(now) for attempt in attempts}
    for slot in slots.order_by("attempt_id", "position"):
        version = slot.question_version
        answers.setdefault(slot.attempt_id, []).append(
            {
                "position": slot.position,
                "question_key": version.question.key,
                "question_version": version.number,
                "chosen": [choice_texts.get(pk, "") for pk in slot.selected_choice_ids],
                "correct": slot.is_correct if review_open[slot.attempt_id] else None,
                "answered_at": _when(slot.answered_at),
                "seconds_spent": slot.seconds_spent,
                "flagged": slot.flagged,
            }
        )
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": _when(now),
        "account": {
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "role": user.role,
            "time_zone": user.time_zone,
            "extra_time_percent": user.extra_time_percent,
            "extra_time_minutes": user.extra_time_minutes,
            "date_joined": _when(user.date_joined),
            "last_login": _when(user.last_login),
        },
        "attempts": [_attempt(attempt, answers.get(attempt.pk, []), review_open[attempt.pk]) for attempt in attempts],
        "question_reports": [
            {
                "question_key": report.version.question.key,
                "question_version": report.version.number,
                "kind": report.kind,
                "text": report.text,
                "status": report.status,
                "reply": report.reply,  # the editors' answer to this person; the editor's name is theirs
                "created_at": _when(report.created_at),
                "closed_at": _when(report.closed_at),
            }
            for report in QuestionReport.objects.filter(reporter=user).select_related("version__question")
        ],
        "group_memberships": [
            {
                "group": membership.group.name,
                "joined_at": _when(membership.joined_at),
                "extra_time_percent": membership.extra_time_percent,
                "extra_time_minutes": membership.extra_time_minutes,
                "leaderboard_opt_in": membership.leaderboard_opt_in,
            }
            for membership in Membership.objects.filter(user=user).select_related("group")
        ],
        "sitting_seats": [
            {
                "group": seat.sitting.assignment.group.name,
                "exam": seat.sitting.assignment.blueprint.title,
                "joined_at": _when(seat.joined_at),
                "extra_minutes": seat.extra_minutes,
                "attempt": str(seat.attempt_id) if seat.attempt_id else None,
            }
            for seat in Seat.objects.filter(user=user).select_related(
                "sitting__assignment__group", "sitting__assignment__blueprint"
            )
        ],
        # What they did on the audit trail; the labels of others' objects stay out.
        "audit_trail": [
            {"at": _when(at), "action": action, "ip": ip, "target_type": target_type, "target_id": target_id}
            for at, action, ip, target_type, target_id in AuditEvent.objects.filter(actor=user)
            .order_by("at", "pk")
            .values_list("at", "action", "ip", "target_type", "target_id")
        ],
        "sign_ins": _sign_ins(user),
    }
    for name, label in EXTRA_PERSONAL_TABLES.items():
        data[name] = _extra_table(label, user)
    return data


def _attempt(attempt: Attempt, answers: list[dict], review_open: bool) -> dict:
    blueprint = attempt.blueprint
    finished = not attempt.is_open
    return {
        "id": str(attempt.pk),
        "exam": blueprint.title,
        "bank": blueprint.bank.title,
        "mode": attempt.mode,
        "state": attempt.state,
        "assigned": bool(attempt.context),
        "started_at": _when(attempt.started_at),
        "deadline": _when(attempt.deadline),
        "finished_at": _when(attempt.finished_at),
        "finish_reason": attempt.finish_reason,
        "question_count": attempt.question_count,
        # The result page shows the score as soon as the attempt is finished, even before the review opens.
        "correct_count": attempt.correct_count if finished else None,
        "score_percent": attempt.score_percent if finished else None,
        "passed": attempt.passed if finished else None,
        "review_open": review_open,
        "answers": answers,
    }


def _sign_ins(user: User) -> list[dict]:
    """The sign-ins django-axes logged for this username: when, from where, with which browser."""
    from axes.models import AccessLog

    return [
        {"at": _when(at), "ip": ip, "user_agent": agent, "logout_at": _when(logout)}
        for at, ip, agent, logout in AccessLog.objects.filter(username=user.username)
        .order_by("attempt_time")
        .values_list("attempt_time", "ip_address", "user_agent", "logout_time")
    ]


def _extra_table(label: str, user: User) -> list[dict] | None:
    """Every row of `label` that belongs to `user`, or None while that table does not exist."""
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return [
        {key: (_when(value) if isinstance(value, datetime) else value) for key, value in row.items()}
        for row in model.objects.filter(user=user).values()
    ]


@transaction.atomic
def account_delete(*, user: User, now: datetime) -> str:
    """Delete the person behind `user` and keep the aggregates others rely on; returns the anonymous name.

    Attempts, answers, memberships and seats stay (item statistics and group averages count them) under an
    anonymous, inactive account row that can never sign in. Question reports stay in the bank's history with
    their text blanked, still pointing at that anonymous row: the reporter column cannot be empty, and the row it
    points at no longer says who. Their name leaves the audit trail; the events themselves stay.
    """
    old_names = [user.username, user.email, user.get_full_name()]
    anonymous = f"deleted-{secrets.token_hex(6)}"
    audit.record("account.delete", summary=f"{user.username} deleted their account", target=user)

    reports = QuestionReport.objects.filter(reporter=user)
    reports.update(text="")
    for report in reports.exclude(reply=""):  # an editor's reply may greet the learner by name
        reply = scrub(report.reply, old_names, anonymous)
        if reply != report.reply:
            QuestionReport.objects.filter(pk=report.pk).update(reply=reply)
    Membership.objects.filter(user=user).update(leaderboard_opt_in=False)  # not on anyone's leaderboard any more
    AuditEvent.objects.erase_person(user=user, old_names=old_names, new_name=anonymous)
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)).update(
        object_repr=anonymous
    )
    _forget_sign_ins(user.username)
    _end_sessions(user, now)

    user.username, user.email = anonymous, f"{anonymous}@deleted.invalid"
    user.first_name = user.last_name = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.time_zone, user.extra_time_percent, user.extra_time_minutes = "UTC", 0, 0
    user.last_login = None
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    return anonymous


def _forget_sign_ins(username: str) -> None:
    """django-axes keeps each sign-in and failure with the username and address: personal data, so it goes."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.filter(username=username).delete()


def _end_sessions(user: User, now: datetime) -> None:
    """Delete every live session signed in as `user` (the password change alone would refuse them next time)."""
    if settings.SESSION_ENGINE not in DB_SESSIONS:
        return  # cache or cookie sessions: the unusable password and inactive account refuse them on next use
    for session in Session.objects.filter(expire_date__gt=now).iterator():
        if session.get_decoded().get("_auth_user_id") == str(user.pk):
            session.delete()
