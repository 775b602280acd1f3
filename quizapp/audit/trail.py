"""Writing the trail: one call per privileged action, from inside the service that makes the change."""

from __future__ import annotations

from django.db import models

from .context import current
from .models import AuditEvent

MAX_LABEL = 200
MAX_SUMMARY = 300


def record(
    action: str,
    *,
    summary: str,
    target: models.Model | None = None,
    detail: dict | None = None,
    bank_id: int | None = None,
    group_id: int | None = None,
) -> AuditEvent:
    """Store who (from the request or command under way) did `action` to `target`, with `detail` of what changed.

    Call it inside the service's transaction, so the event exists exactly when the change does. An event about a
    person (a member removed, a role granted, minutes given) has that person's user as its `target`, and names
    people only in `summary`, never in `detail`: that is how an account deletion finds and rewrites every event
    that names them (AuditEventQuerySet.erase_person).
    """
    actor = current()
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=(user.get_username() if user else actor.name) or "system",
        action=action,
        summary=summary[:MAX_SUMMARY],
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:MAX_LABEL] if target is not None else "",
        detail=detail or {},
        ip=actor.ip,
        bank_id=bank_id,
        group_id=group_id,
    )
