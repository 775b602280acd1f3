"""What changed, and names taken out of text: helpers with no database of their own."""

from __future__ import annotations

import re


def changes(instance, before: dict, fields) -> dict:
    """{field: [old, new]} for each of `fields` whose value differs from `before` (the values read earlier)."""
    out = {}
    for name in fields:
        old, new = before.get(name), getattr(instance, name)
        if old != new:
            out[name] = [old, new]
    return out


def snapshot(instance, fields) -> dict:
    return {name: getattr(instance, name) for name in fields}


def scrub(text: str, old_names: list[str], new_name: str) -> str:
    """`text` with each whole occurrence of one of `old_names` (a username, an e-mail address) replaced."""
    for old in filter(None, old_names):
        text = re.sub(rf"(?<![\w.@+-]){re.escape(old)}(?![\w.@+-])", new_name, text, flags=re.IGNORECASE)
    return text
