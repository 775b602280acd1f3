"""Who is acting and from where, for the request or command under way, without passing the request down."""

from __future__ import annotations

import contextvars
import getpass
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user: Any = None  # the request's user (possibly lazy, read only when an event is recorded), or None
    name: str = ""  # used when there is no signed-in user: "manage.py (root)", "system"
    ip: str | None = None


SYSTEM = Actor(name="system")
_current: contextvars.ContextVar[Actor] = contextvars.ContextVar("audit_actor", default=SYSTEM)


def current() -> Actor:
    return _current.get()


@contextmanager
def acting(*, user=None, name: str = "", ip: str | None = None):
    """Record every event inside the block as done by `user` (or `name`) from `ip`."""
    token = _current.set(Actor(user=user, name=name, ip=ip))
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def acting_as_command():
    """Events from a management command: actor "manage.py (<OS user>)", no user row, no address."""
    try:
        os_user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        os_user = "unknown"
    with acting(name=f"manage.py ({os_user})"):
        yield
