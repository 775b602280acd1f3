"""GIFT as Moodle reads it: multiple-choice questions in, every other question type reported as skipped.

Questions are blocks separated by blank lines. A block may carry `//` comment lines (with `[id:…]` and
`[tag:…]`), a `$CATEGORY:` line, a `::title::`, an optional `[html]`/`[plain]`/`[markdown]`/`[moodle]` text
format, and one `{…}` answer block: `=right`, `~wrong`, `~%50%weighted`, `#feedback` per answer and `####general
feedback`. The escapes `\\~ \\= \\# \\{ \\} \\: \\\\ \\n` stand for the character itself (`\\n` for a line break).
A block with `=` answers is single answer; one with only `~` answers and `%weights%` is multiple response
(the options with a positive weight are the correct ones).
"""

from __future__ import annotations

import re

from . import (
    LIKELY_HTML,
    MAX_QUESTIONS,
    Defaults,
    ExportResult,
    ParseResult,
    Problem,
    add_choose_suffix,
    check_questions,
    decode,
    html_to_text,
    make_question,
    placement_tags,
    read_tags,
    text_fields,
    too_many,
    where,
)

ESCAPES = {"~": "~", "=": "=", "#": "#", "{": "{", "}": "}", ":": ":", "\\": "\\", "n": "\n"}
FORMAT_MARKER = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]")
WEIGHT = re.compile(r"%(-?\d+(?:\.\d+)?)%")
TRUE_FALSE = re.compile(r"(T|F|TRUE|FALSE)\s*(#.*)?", re.IGNORECASE | re.DOTALL)


def mask(text: str) -> str:
    """The text with every backslash pair hidden, so a search for `{` or `~` finds only unescaped ones.

    It has the same length as the text, so positions found in it slice the original.
    """
    out = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text):
            out.append("__")
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def unescape(text: str) -> str:
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            out.append(ESCAPES.get(following, char + following))
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def escape(text: str) -> str:
    out = []
    for char in text:
        if char == "\n":
            out.append("\\n")
        elif char in "~=#{}:\\":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _blocks(text: str):
    """Blocks of (line number, line) separated by blank lines."""
    block = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            block.append((number, line))
        elif block:
            yield block
            block = []
    if block:
        yield block


def parse(data: bytes | str, *, source: str = "<gift>", defaults: Defaults | None = None) -> ParseResult:
    """Read a GIFT file; raises FormatError only when refusing the whole file (size, encoding)."""
    text = decode(data, source)
    result = ParseResult()
    category = None
    count = 0
    for block in _blocks(text):
        ident, tags, body = None, [], []
        for number, line in block:
            stripped = line.strip()
            if stripped.startswith("//"):
                ident = next(iter(re.findall(r"\[id:([^\]]*)\]", stripped)), ident)
                tags += re.findall(r"\[tag:([^\]]*)\]", stripped)
            elif stripped.startswith("$CATEGORY:") and not body:
                category = stripped.removeprefix("$CATEGORY:").strip()
            else:
                body.append((number, line))
        if not body:
            continue
        count += 1
        if count > MAX_QUESTIONS:
            raise too_many(source, body[0][0])
        _question(body, source=source, ident=ident, tags=tags, category=category, defaults=defaults, result=result)
    check_questions(result)
    return result


def _question(body, *, source, ident, tags, category, defaults, result: ParseResult) -> None:
    raw = "\n".join(line for _, line in body)
    lines = [number for number, _ in body]
    masked = mask(raw)
    first = lines[0]

    def line_at(position: int) -> int:
        return lines[min(raw.count("\n", 0, position), len(lines) - 1)]

    def error(reason: str, position: int | None = None) -> None:
        result.errors.append(Problem(source, first if position is None else line_at(position), reason))

    def skip(reason: str) -> None:
        result.skipped.append(Problem(source, first, reason))

    position = len(masked) - len(masked.lstrip())
    title = None
    if masked.startswith("::", position):
        end = masked.find("::", position + 2)
        if end < 0:
            return error("the title's :: has no closing :: (escape a colon in a title as \\:)")
        title = unescape(raw[position + 2 : end]).strip()
        position = end + 2
    opening = masked.find("{", position)
    if opening < 0:
        name = title or unescape(raw[position:]).strip()[:40]
        return skip(f"{name}: a description (no answer block): not a question, skipped")
    closing = masked.find("}", opening + 1)
    if closing < 0:
        return error("the answer block's { has no closing } (escape a literal brace as \\{)", opening)
    if "{" in masked[opening + 1 : closing]:
        return error("a second { inside the answer block (escape a literal brace as \\{)", opening)
    if "}" in masked[position:opening]:
        return error("a } before the answer block (escape a literal brace as \\})", position)
    if "{" in masked[closing + 1 :] or "}" in masked[closing + 1 :]:
        return error("a second answer block: a GIFT question has one (escape literal braces as \\{ \\})", closing)

    head = raw[position:opening]
    text_format = None
    if marker := FORMAT_MARKER.match(mask(head)):
        text_format = marker[1]
        head = head[marker.end() :]
    dropped: set[str] = set()

    def text(piece: str, inherited=None, *, own_marker=True) -> str:
        piece_format = inherited
        if own_marker and (marker := FORMAT_MARKER.match(mask(piece))):
            piece_format = marker[1]
            piece = piece[marker.end() :]
        value = unescape(piece)
        if piece_format == "html" or (piece_format in (None, "moodle") and LIKELY_HTML.search(value)):
            value, lost = html_to_text(value, keep_newlines=piece_format != "html")
            dropped.update(lost)
        return value.strip()

    stem = text(head, text_format, own_marker=False)
    tail = raw[closing + 1 :]
    if tail.strip():
        stem = f"{stem} _____ {text(tail, text_format, own_marker=False)}".strip()

    inner, inner_masked = raw[opening + 1 : closing], masked[opening + 1 : closing]
    explanation = ""
    general = inner_masked.find("####")
    if general >= 0:
        explanation = text(inner[general + 4 :], text_format)
        inner, inner_masked = inner[:general], inner_masked[:general]
    content = inner_masked.strip()
    name = title or stem[:40] or "question"
    if not content:
        return skip(f"{name}: an essay question (empty answer block): only multiple choice is imported")
    if TRUE_FALSE.fullmatch(content):
        return skip(f"{name}: a true/false question: only multiple choice is imported")
    if content.startswith("#"):
        return skip(f"{name}: a numerical question: only multiple choice is imported")
    marks = [i for i, char in enumerate(inner_masked) if char in "~="]
    if not marks or inner_masked[: marks[0]].strip():
        return error("text before the first answer: start every answer with = or ~", opening)

    answers = []
    for start, end in zip(marks, marks[1:] + [len(inner_masked)], strict=True):
        piece, piece_masked = inner[start + 1 : end], inner_masked[start + 1 : end]
        lead = len(piece_masked) - len(piece_masked.lstrip())
        weight = WEIGHT.match(piece_masked, lead)
        begin = weight.end() if weight else lead
        hash_at = piece_masked.find("#", begin)
        stop = hash_at if hash_at >= 0 else len(piece)
        answers.append(
            {
                "mark": inner_masked[start],
                "weight": float(weight[1]) if weight else None,
                "text": text(piece[begin:stop], text_format),
                "rationale": text(piece[hash_at + 1 :], text_format) if hash_at >= 0 else "",
                "arrow": "->" in piece_masked[begin:stop],
                "at": opening + 1 + start,
            }
        )
    if all(a["mark"] == "=" for a in answers):
        if any(a["arrow"] for a in answers):
            return skip(f"{name}: a matching question: only multiple choice is imported")
        return skip(f"{name}: a short-answer question (no ~ wrong answers): only multiple choice is imported")
    for answer in answers:
        if answer["weight"] is not None and not -100 <= answer["weight"] <= 100:
            return error(f"answer weight {answer['weight']:g}% is outside -100% to 100%", answer["at"])

    single = any(a["mark"] == "=" for a in answers)
    options = []
    for number, answer in enumerate(answers, start=1):
        weight = answer["weight"]
        if single:
            correct = answer["mark"] == "=" or weight == 100
            if not correct and weight is not None and 0 < weight < 100:
                result.warnings.append(
                    Problem(source, line_at(answer["at"]), f"option {number}: partial credit {weight:g}% read as wrong")
                )
        else:
            correct = weight is not None and weight > 0
        options.append({"text": answer["text"], "correct": correct, "rationale": answer["rationale"]})
    positive = {a["weight"] for a in answers if a["weight"] is not None and a["weight"] > 0}
    if not single and len(positive) > 1:
        result.warnings.append(
            Problem(source, first, "unequal positive weights read as all-or-nothing: every positive option is correct")
        )
    fields, tag_problems = read_tags(tags)
    for reason in tag_problems:
        error(reason)
    question = make_question(
        source=source,
        line=first,
        stem=stem,
        options=options,
        kind="single" if single else "multiple",
        defaults=defaults,
        key_hint=ident or title,
        explanation=explanation,
        domain=fields.get("domain"),
        task=fields.get("task"),
        topic=fields.get("topic"),
        notes=fields["notes"],
        category=category,
    )
    if dropped:
        result.warnings.append(
            Problem(source, first, f"{question['key']}: dropped markup: {', '.join(sorted(dropped))}")
        )
    add_choose_suffix(question, result)
    result.questions.append(question)


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _plain(text: str) -> str:
    """Escaped text; a text that itself starts like a format marker gets an explicit [plain] first."""
    escaped = escape(text)
    return f"[plain]{escaped}" if FORMAT_MARKER.match(escaped) else escaped


def unsupported(question: dict) -> str | None:
    """Why GIFT cannot carry this question, or None."""
    if any("\r" in text for text in text_fields(question)):
        return "a text holds a carriage return, which GIFT cannot carry"
    if any("]" in tag or "\n" in tag for tag in placement_tags(question)):
        return "a domain, task, topic or note id holds ] or a line break, which a GIFT tag cannot carry"
    return None


def export(questions: list[dict]) -> ExportResult:
    """Write GIFT that Moodle imports: key as [id:] and title, our fields as tags, plain text, weights for
    multiple response (correct options share 100%, wrong ones -100%)."""
    blocks, skipped = [], []
    for question in questions:
        reason = unsupported(question)
        if reason:
            file, line = where(question)
            skipped.append(Problem(file, line, f"{question.get('key')}: {reason}"))
            continue
        tags = "".join(f" [tag:{tag}]" for tag in placement_tags(question))
        key = question["key"]
        lines = [f"// [id:{key}]{tags}", f"::{escape(key)}::[plain]{escape(question['stem'])} {{"]
        options = question["options"]
        multiple = question["type"] == "multiple"
        correct_count = sum(1 for o in options if o.get("correct"))
        for option in options:
            correct = bool(option.get("correct"))
            if multiple:
                weight = f"%{_weight(100 / correct_count)}%" if correct else "%-100%"
                mark = "~"
            else:
                mark = "=" if correct else "~"
                weight = ("%100%" if correct else "%0%") if option["text"].startswith("%") else ""
            line = f"{mark}{weight}{_plain(option['text'])}"
            if option.get("rationale"):
                line += f" #{_plain(option['rationale'])}"
            lines.append(line)
        if question.get("explanation"):
            lines.append(f"####{_plain(question['explanation'])}")
        lines.append("}")
        blocks.append("\n".join(lines))
    text = "\n\n".join(blocks) + ("\n" if blocks else "")
    return ExportResult(text=text, exported=len(blocks), skipped=skipped)
