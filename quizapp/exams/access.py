"""Access rules for starting an attempt (after Moodle's quiz access rules, `mod/quiz/accessrule/*`).

Each rule says whether a new attempt may start now and why not, when it would end an attempt started at a given
moment, and a line for the start page. `AccessRules` combines them: the earliest end is the deadline, the first
refusal wins, and the start page lists every rule's line. The layers above the engine (groups) build rules from
their own data and pass them in; the engine knows nothing of groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.template.defaultfilters import date as date_filter
from django.utils import timezone


def _at(moment: datetime) -> str:
    """A moment as the viewer reads it: in their zone, with the zone named (the date too unless it is today)."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return date_filter(local, "H:i T")
    return date_filter(local, "j M Y, H:i T")


def _minutes(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class Rule:
    def refusal(self, now: datetime) -> str | None:
        """Why no new attempt may start at `now`, or None."""
        return None

    def end_time(self, start: datetime) -> datetime | None:
        """The latest moment an attempt started at `start` may run to under this rule (None: no limit)."""
        return None

    def end_reason(self) -> str:
        return ""

    def description(self) -> str:
        return ""


@dataclass
class Duration(Rule):
    """The exam's own duration, plus the learner's extra time."""

    duration: timedelta
    extra: timedelta = timedelta(0)

    def end_time(self, start):
        return start + self.duration + self.extra

    def end_reason(self):
        return "when your time runs out"

    def description(self):
        if self.extra:
            return f"{_minutes(self.duration)}, plus {_minutes(self.extra)} of extra time for you."
        return f"{_minutes(self.duration)} once you start."


@dataclass
class OpensAt(Rule):
    opens_at: datetime

    def refusal(self, now):
        return None if now >= self.opens_at else f"This exam opens at {_at(self.opens_at)}."

    def description(self):
        return f"Opens {_at(self.opens_at)}."


@dataclass
class ClosesAt(Rule):
    """An assignment's close: no start after it, and it cuts short any attempt still running."""

    closes_at: datetime
    what: str = "the assignment"

    def refusal(self, now):
        return None if now < self.closes_at else f"This exam closed at {_at(self.closes_at)}."

    def end_time(self, start):
        return self.closes_at

    def end_reason(self):
        return f"when {self.what} closes"

    def description(self):
        return f"Closes {_at(self.closes_at)}: any attempt still running ends then."


@dataclass
class AttemptLimit(Rule):
    limit: int
    used: int

    def refusal(self, now):
        if self.used >= self.limit:
            return f"You have used all {self.limit} attempt(s) allowed."
        return None

    def description(self):
        left = self.limit - self.used
        return f"{self.limit} attempt(s) allowed; {left} left."


@dataclass
class SharedStart(Rule):
    """A group sitting: everyone's clock started at one moment; a late arrival gets the time that is left."""

    started_at: datetime
    duration: timedelta
    extra: timedelta = timedelta(0)

    def end_time(self, start):
        return self.started_at + self.duration + self.extra

    def end_reason(self):
        return "when the sitting's time runs out" + (" (with your extra time)" if self.extra else "")

    def description(self):
        line = f"Started for everyone at {_at(self.started_at)}; {_minutes(self.duration)} in all"
        return line + (f", plus {_minutes(self.extra)} of extra time for you." if self.extra else ".")


@dataclass
class AccessRules:
    rules: list[Rule]

    def refusal(self, now: datetime) -> str | None:
        for rule in self.rules:
            reason = rule.refusal(now)
            if reason:
                return reason
        return None

    def deadline(self, start: datetime) -> datetime | None:
        return self._earliest(start)[0]

    def _earliest(self, start):
        ends = [(end, rule) for rule in self.rules if (end := rule.end_time(start)) is not None]
        return min(ends, key=lambda pair: pair[0]) if ends else (None, None)

    def end_sentence(self, start: datetime) -> str:
        """ "This attempt will end at 17:00 CET, when the assignment closes." (empty: untimed)."""
        end, rule = self._earliest(start)
        if end is None:
            return ""
        return f"If you start now, this attempt will end at {_at(end)}, {rule.end_reason()}."

    def descriptions(self) -> list[str]:
        return [line for rule in self.rules if (line := rule.description())]


def solo_rules(*, blueprint, user) -> AccessRules:
    """A learner's own attempt: the exam's duration plus the learner's own extra time from their settings."""
    if not blueprint.is_timed:
        return AccessRules([])
    duration = timedelta(minutes=blueprint.duration_minutes)
    return AccessRules([Duration(duration, user.extra_time_for(duration))])
