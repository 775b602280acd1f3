"""Aiken: a question's text lines, its options `A. text` (or `A) text`), then `ANSWER: X`.

Aiken holds single-answer questions only, with no rationale, explanation, key or placement: imported questions
get a key hashed from the stem and the command line's domain, task and topic. Exporting skips multiple-response
questions and says how many.
"""

from __future__ import annotations

import re

from . import (
    MAX_QUESTIONS,
    Defaults,
    ExportResult,
    ParseResult,
    Problem,
    check_questions,
    decode,
    make_question,
    text_fields,
    too_many,
    where,
)

OPTION = re.compile(r"^([A-Z])[.)]\s+(\S.*)$")
ANSWER = re.compile(r"^ANSWER\s*:(.*)$", re.IGNORECASE)
LETTER = re.compile(r"^\s*([A-Za-z])\s*$")


def _answer_line(line: str):
    """The ANSWER: line's remainder, or None: `ANSWER:` in capitals always counts, `Answer: B` too."""
    match = ANSWER.match(line)
    if match and (line.startswith("ANSWER") or LETTER.match(match[1])):
        return match[1]
    return None


def parse(data: bytes | str, *, source: str = "<aiken>", defaults: Defaults | None = None) -> ParseResult:
    """Read an Aiken file; raises FormatError only when refusing the whole file (size, encoding)."""
    text = decode(data, source)
    result = ParseResult()
    stem: list[str] = []
    options: list[str] = []
    start = 0
    broken = False
    count = 0

    def reset():
        nonlocal stem, options, start, broken
        stem, options, start, broken = [], [], 0, False

    def fail(number: int, reason: str):
        nonlocal broken
        if not broken:
            result.errors.append(Problem(source, number, reason))
        broken = True

    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not start:
            start = number
            count += 1
            if count > MAX_QUESTIONS:
                raise too_many(source, number)
        answer = _answer_line(stripped)
        option = OPTION.match(stripped)
        if answer is not None:
            letter = LETTER.match(answer)
            if not options:
                fail(number, "ANSWER: comes before any option (A. text)")
            elif not letter:
                fail(number, f"ANSWER: names one option letter (got {answer.strip()!r}); Aiken has one correct answer")
            elif ord(letter[1].upper()) - ord("A") >= len(options):
                fail(
                    number,
                    f"ANSWER: {letter[1].upper()} is not one of the options A-{chr(ord('A') + len(options) - 1)}",
                )
            if not broken:
                correct = ord(letter[1].upper()) - ord("A")
                question = make_question(
                    source=source,
                    line=start,
                    stem="\n".join(stem),
                    options=[{"text": t, "correct": i == correct} for i, t in enumerate(options)],
                    kind="single",
                    defaults=defaults,
                )
                result.questions.append(question)
            reset()
        elif option and stem:
            expected = chr(ord("A") + len(options))
            if option[1] != expected:
                fail(number, f"option {option[1]} where {expected} was expected: letter the options A, B, C, …")
            options.append(option[2].strip())
        elif option:
            fail(number, "an option before any question text")
        elif options:
            fail(number, "a text line among the options: each option is one line, A. text; end with ANSWER: X")
        else:
            stem.append(stripped)
    if start:
        fail(start, "the question has no ANSWER: line")
    check_questions(result)
    return result


def _stem_lines(stem: str) -> list[str]:
    return [line.strip() for line in stem.split("\n") if line.strip()]


def unsupported(question: dict) -> str | None:
    """Why Aiken cannot carry this question, or None."""
    if question.get("type") == "multiple":
        return "multiple response: Aiken has one correct answer"
    options = question.get("options") or []
    if sum(1 for o in options if o.get("correct")) != 1:
        return "Aiken needs exactly one correct option"
    if not 1 <= len(options) <= 26:
        return "Aiken letters 1-26 options"
    if any("\r" in text for text in text_fields(question)):
        return "a text holds a carriage return, which Aiken cannot carry"
    if any("\n" in str(o.get("text")) or not str(o.get("text")).strip() for o in options):
        return "an option is empty or holds a line break; an Aiken option is one line"
    for line in _stem_lines(str(question.get("stem") or "")):
        if OPTION.match(line) or _answer_line(line) is not None:
            return f"the stem line {line[:40]!r} would read as an option or an ANSWER: line"
    if not _stem_lines(str(question.get("stem") or "")):
        return "the stem is empty"
    return None


def export(questions: list[dict]) -> ExportResult:
    """Write Aiken; rationales, explanations and placement are lost (the format has no place for them)."""
    blocks, skipped = [], []
    for question in questions:
        reason = unsupported(question)
        if reason:
            file, line = where(question)
            skipped.append(Problem(file, line, f"{question.get('key')}: {reason}"))
            continue
        lines = _stem_lines(question["stem"])
        letters = []
        for index, option in enumerate(question["options"]):
            letter = chr(ord("A") + index)
            lines.append(f"{letter}. {option['text'].strip()}")
            if option.get("correct"):
                letters.append(letter)
        lines.append(f"ANSWER: {letters[0]}")
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks) + ("\n" if blocks else "")
    return ExportResult(text=text, exported=len(blocks), skipped=skipped)
