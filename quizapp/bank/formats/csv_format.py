"""CSV: one row per question, a header row naming the columns (docs/import-export.md lists them).

UTF-8 with or without a BOM. Export writes a BOM (so spreadsheets read UTF-8) and prefixes with ' every cell
that a spreadsheet would run as a formula (starting with = + - @, tab or carriage return); import removes that
one quote again, so a round trip gives back the text.
"""

from __future__ import annotations

import csv
import io
import re

from . import (
    MAX_QUESTIONS,
    Defaults,
    ExportResult,
    FormatError,
    ParseResult,
    Problem,
    check_questions,
    decode,
    make_question,
    text_fields,
    where,
)

MAX_OPTIONS = 6
COLUMNS = (
    "key", "domain", "task", "topic", "notes", "type", "stem",
    *(f"option_{n}" for n in range(1, MAX_OPTIONS + 1)),
    "correct",
    *(f"rationale_{n}" for n in range(1, MAX_OPTIONS + 1)),
    "explanation", "references",
)  # fmt: skip
REQUIRED = ("stem", "option_1", "option_2", "correct")
FORMULA = re.compile(r"^'*[=+\-@\t\r]")


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will not run: one more leading quote before = + - @ (or before quotes leading to one)."""
    return "'" + cell if FORMULA.match(cell) else cell


def restore(cell: str) -> str:
    """Undo neutralise: drop one leading quote when quotes lead to = + - @."""
    return cell[1:] if cell.startswith("'") and FORMULA.match(cell) else cell


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def parse(data: bytes | str, *, source: str = "<csv>", defaults: Defaults | None = None) -> ParseResult:
    """Read a CSV file; raises FormatError only when refusing the whole file (size, encoding, header, CSV syntax)."""
    text = decode(data, source)
    result = ParseResult()
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FormatError([Problem(source, 1, f"row 1 (the header): not valid CSV ({error})")]) from None
    if not header:
        raise FormatError([Problem(source, 1, f"row 1 must name the columns: {', '.join(COLUMNS)}")])
    names = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in names]
    unknown = [name for name in names if name and name not in COLUMNS]
    doubled = sorted({name for name in names if name and names.count(name) > 1})
    problems = []
    if missing:
        problems.append(f"row 1 (the header) lacks the column(s) {', '.join(missing)}")
    if doubled:
        problems.append(f"row 1 (the header) names {', '.join(doubled)} twice")
    if problems:
        raise FormatError([Problem(source, 1, reason) for reason in problems])
    if unknown:
        result.warnings.append(Problem(source, 1, f"row 1: ignored unknown column(s) {', '.join(unknown)}"))
    row_number = 1
    line = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise FormatError([Problem(source, line, f"row {row_number + 1}: not valid CSV ({error})")]) from None
        row_number += 1
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if row_number - 1 > MAX_QUESTIONS:
            raise too_many_rows(source, start)
        if len(row) > len(names):
            result.errors.append(Problem(source, start, f"row {row_number}: {len(row)} cells but {len(names)} columns"))
            continue
        cells = {name: restore(row[i].strip()) if i < len(row) else "" for i, name in enumerate(names) if name}
        _row(cells, row_number=row_number, line=start, source=source, defaults=defaults, result=result)
    check_questions(result)
    return result


def too_many_rows(source: str, line: int) -> FormatError:
    return FormatError([Problem(source, line, f"more than {MAX_QUESTIONS:,} question rows: split the file")])


def _row(cells: dict, *, row_number: int, line: int, source: str, defaults, result: ParseResult) -> None:
    def error(reason: str) -> None:
        result.errors.append(Problem(source, line, f"row {row_number}: {reason}"))

    texts = [cells.get(f"option_{n}", "") for n in range(1, MAX_OPTIONS + 1)]
    count = max((n for n, text in enumerate(texts, start=1) if text), default=0)
    if any(not text for text in texts[:count]):
        return error("options must fill option_1, option_2, … without a gap")
    rationales = [cells.get(f"rationale_{n}", "") for n in range(1, MAX_OPTIONS + 1)]
    if any(rationales[count:]):
        return error(f"a rationale without its option (only {count} options)")
    correct = set()
    for part in re.split(r"[;,]", cells.get("correct", "")):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or not part.isascii() or not 1 <= int(part) <= count:
            return error(f"correct lists option numbers 1-{count} separated by ; (got {cells.get('correct')!r})")
        correct.add(int(part))
    if not correct:
        return error("correct is empty: list the correct option numbers, as in 1 or 1;3")
    kind = cells.get("type", "").lower() or ("single" if len(correct) == 1 else "multiple")
    if kind not in ("single", "multiple"):
        return error(f"type is single or multiple (got {kind!r})")
    domain = None
    if cells.get("domain"):
        if not (cells["domain"].isdigit() and cells["domain"].isascii()):
            return error(f"domain is a number (got {cells['domain']!r})")
        domain = int(cells["domain"])
    question = make_question(
        source=source,
        line=line,
        stem=cells.get("stem", ""),
        options=[{"text": texts[i], "correct": i + 1 in correct, "rationale": rationales[i]} for i in range(count)],
        kind=kind,
        defaults=defaults,
        key_hint=cells.get("key") or None,
        explanation=cells.get("explanation", ""),
        domain=domain,
        task=cells.get("task") or None,
        topic=cells.get("topic") or None,
        notes=_split(cells.get("notes", "")),
        references=_split(cells.get("references", "")),
    )
    if cells.get("key") and question["key"] != cells["key"]:
        return error(f"key {cells['key']!r}: keys are 3-81 lowercase letters, digits and hyphens")
    result.questions.append(question)


def unsupported(question: dict) -> str | None:
    """Why CSV cannot carry this question, or None."""
    if len(question.get("options") or []) > MAX_OPTIONS:
        return f"more than {MAX_OPTIONS} options"
    if any("\r" in text for text in text_fields(question)):
        return "a text holds a carriage return, which the reader turns into a line break"
    lists = [str(n) for n in question.get("notes") or []] + [str(r) for r in question.get("references") or []]
    if any(";" in item or item != item.strip() for item in lists):
        return "a note id or reference holds ; or surrounding spaces, which the CSV lists cannot carry"
    return None


def export(questions: list[dict]) -> ExportResult:
    """Write CSV with a header row, formula-safe cells and a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    skipped = []
    exported = 0
    for question in questions:
        reason = unsupported(question)
        if reason:
            file, line = where(question)
            skipped.append(Problem(file, line, f"{question.get('key')}: {reason}"))
            continue
        options = question.get("options") or []
        row = {
            "key": question.get("key") or "",
            "domain": "" if question.get("domain") is None else str(question["domain"]),
            "task": "" if question.get("task") is None else str(question["task"]),
            "topic": question.get("topic") or "",
            "notes": ";".join(str(n) for n in question.get("notes") or []),
            "type": question.get("type") or "",
            "stem": question.get("stem") or "",
            "correct": ";".join(str(i) for i, o in enumerate(options, start=1) if o.get("correct")),
            "explanation": question.get("explanation") or "",
            "references": ";".join(str(r) for r in question.get("references") or []),
        }
        for number, option in enumerate(options, start=1):
            row[f"option_{number}"] = option.get("text") or ""
            row[f"rationale_{number}"] = option.get("rationale") or ""
        writer.writerow([neutralise(row.get(column, "")) for column in COLUMNS])
        exported += 1
    return ExportResult(text="\ufeff" + buffer.getvalue(), exported=exported, skipped=skipped)
