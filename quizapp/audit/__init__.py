"""The audit trail: who did which privileged thing, when, to what and from where; written once, never changed.

Services call `audit.record(...)` inside their own transaction; who and from where come from the request
(quizapp.accounts.middleware.AuditContextMiddleware) or from a management command
(`audit.acting_as_command()`), never from arguments.
"""

from .context import acting, acting_as_command
from .diff import changes, snapshot


def record(action: str, **kwargs):
    """Store one AuditEvent for `action`; see trail.record for the arguments."""
    from .trail import record as _record  # models load after the app registry; this package imports early

    return _record(action, **kwargs)


__all__ = ["acting", "acting_as_command", "changes", "record", "snapshot"]
