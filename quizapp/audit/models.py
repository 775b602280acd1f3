"""One row per privileged action: written in the same transaction as the change, never updated or deleted.

The scope (bank_id, group_id) decides who may read an event besides staff: the bank's or the group's owner. They
are plain integers, not foreign keys, because the audit trail sits below the bank and the groups (and an event
outlives the object it describes).
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class EventImmutable(Exception):
    """An audit event was about to be changed or deleted: the trail is append-only."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise EventImmutable("Audit events are never updated.")

    def delete(self):
        raise EventImmutable("Audit events are never deleted.")

    def with_prefix(self, prefix: str):
        """Events whose action starts with `prefix` ("bank." or "bank.publish")."""
        return self.filter(action__startswith=prefix) if prefix else self

    def erase_person(self, *, user, old_names: list[str], new_name: str) -> int:
        """The one change the trail allows: a deleted account's name leaves the events that named it.

        Personal data must go when its owner asks (the account deletion); the fact that something happened, when,
        from which address and to what stays. Returns how many events were rewritten.
        """
        from .diff import scrub

        about = models.Q(actor=user) | models.Q(target_type="accounts.user", target_id=str(user.pk))
        changed = 0
        for event in self.filter(about):
            values = {
                "actor_name": new_name if event.actor_id == user.pk else scrub(event.actor_name, old_names, new_name),
                "summary": scrub(event.summary, old_names, new_name),
                "target_label": scrub(event.target_label, old_names, new_name),
            }
            changed += models.QuerySet.update(self.model.objects.filter(pk=event.pk), **values)
        return changed


class AuditEvent(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # Copied when the event is written, so the trail still says who after the account changes or goes.
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=60, db_index=True, help_text='A dotted code: "bank.publish".')
    summary = models.CharField(max_length=300)
    target_type = models.CharField(max_length=60, blank=True, help_text='The model\'s label: "bank.question".')
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="What changed.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    bank_id = models.BigIntegerField(null=True, blank=True)
    group_id = models.BigIntegerField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["bank_id", "-at"], name="audit_bank_at"),
            models.Index(fields=["group_id", "-at"], name="audit_group_at"),
        ]
        # No add, change or delete permission exists, so no admin user can be granted one.
        default_permissions = ("view",)

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name}: {self.summary}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise EventImmutable("Audit events are never changed once written.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise EventImmutable("Audit events are never deleted.")

    def detail_lines(self) -> list[tuple[str, str]]:
        """The detail as (name, "old → new") pairs for the trail's pages."""
        lines = []
        for name, value in (self.detail or {}).items():
            if isinstance(value, list) and len(value) == 2:  # the convention for a change: [old, new]
                lines.append((name, f"{_shown(value[0])} → {_shown(value[1])}"))
            else:
                lines.append((name, _shown(value)))
        return lines


def _shown(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_shown(v)}" for k, v in value.items()) or "–"
    if isinstance(value, list):
        return ", ".join(map(_shown, value)) or "–"
    return str(value)
