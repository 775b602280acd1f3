"""Which of two saves of one question is newer: the server decides, from a page token it signed itself.

Every question page carries a token that names the attempt, the question and the server's moment of rendering.
With JavaScript, each autosave also sends how many milliseconds passed on that page between its rendering and
the click (`performance.now()` is monotonic, so the figure only grows on one page). The server estimates when the
answer was given as

    given_at = clamp(rendered_at + elapsed, rendered_at, now)

and stores it with the answer; a save whose estimate is older than the stored one is refused as stale. The clamp
is what makes a client number harmless: a far-future or buggy `elapsed` only ever counts as "now", the moment the
request arrived, which is what a fresh click is anyway. A save without `elapsed` (a form posted without
JavaScript) or without a token was given when it arrived. Two tabs or two devices are ordered by the moment of
the click, each measured from its own page, so the answer the learner gave last wins however they moved.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.core import signing

SALT = "quizapp.exams.answer-page"
# A question page older than this cannot save: the longest exam plus its grace, with room to spare.
MAX_PAGE_AGE = timedelta(days=2)
ELAPSED_PATTERN = re.compile(r"[0-9]{1,12}")  # ASCII digits only: `²` and friends are not numbers here


class BadSaveRequest(Exception):
    """The save names no page of this question, or carries a malformed time; nothing was changed."""


def page_token(*, attempt_id, position: int, now: datetime) -> str:
    """A signed token for a question page rendered at `now`."""
    return signing.dumps({"a": str(attempt_id), "p": position, "t": int(now.timestamp() * 1_000_000)}, salt=SALT)


def given_at(*, token: str | None, elapsed_ms: str | None, attempt_id, position: int, now: datetime) -> datetime:
    """When the answer carried by this request was given, by the server's clock (see the module docstring)."""
    if not token:  # a client that names no page: the answer was given when it arrived
        return now
    try:
        data = signing.loads(token, salt=SALT)
        rendered_at = datetime.fromtimestamp(int(data["t"]) / 1_000_000, tz=UTC)
        token_matches = data["a"] == str(attempt_id) and int(data["p"]) == position
    except (signing.BadSignature, KeyError, TypeError, ValueError, OverflowError):
        raise BadSaveRequest("This page is out of date: reload the page and choose again.") from None
    if not token_matches:
        raise BadSaveRequest("This save does not belong to this question: reload the page and choose again.")
    if not now - MAX_PAGE_AGE <= rendered_at <= now:
        raise BadSaveRequest("This page is out of date: reload the page and choose again.")
    if elapsed_ms in (None, ""):
        return now
    if not ELAPSED_PATTERN.fullmatch(elapsed_ms):
        raise BadSaveRequest("The save carried a malformed time: reload the page and choose again.")
    estimate = rendered_at + timedelta(milliseconds=int(elapsed_ms))
    return min(max(estimate, rendered_at), now)
