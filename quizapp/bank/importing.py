"""Import questions from a file into a bank: a dry-run preview first, then all of it in one transaction or nothing.

The readers in formats/ turn a file into questions in the native shape (with file and line); this module checks
them against the bank they land in (its domains, task statements, topics and notes), says for each whether it
would be created, updated (and what changes) or left unchanged, and applies the lot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from quizapp import audit

from . import bankfile, formats
from .editing import QuestionData, question_save, question_set_status
from .models import Bank, Question
from .services import bank_export_data, canonical_question, content_hash

COMPARED_FIELDS = ("domain", "task", "topic", "notes", "type", "stem", "options", "explanation", "references")


class ImportRefused(Exception):
    """The file has errors; nothing was written. `preview` lists them with their lines."""

    def __init__(self, preview: ImportPreview):
        self.preview = preview
        super().__init__("\n".join(str(p) for p in preview.errors))


@dataclass
class PlannedQuestion:
    key: str
    line: int
    stem: str
    changes: list[str] = field(default_factory=list)  # for an update: the fields that differ
    draft_reasons: list[str] = field(default_factory=list)  # why it lands as a draft, if it does


@dataclass
class ImportPreview:
    created: list[PlannedQuestion] = field(default_factory=list)
    updated: list[PlannedQuestion] = field(default_factory=list)
    unchanged: list[PlannedQuestion] = field(default_factory=list)
    skipped: list[formats.Problem] = field(default_factory=list)
    errors: list[formats.Problem] = field(default_factory=list)
    warnings: list[formats.Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def to_write(self) -> int:
        return len(self.created) + len(self.updated)

    def summary(self) -> str:
        return (
            f"{len(self.created)} to create, {len(self.updated)} to update, {len(self.unchanged)} unchanged, "
            f"{len(self.skipped)} skipped, {len(self.errors)} error(s)"
        )


def read_upload(data: bytes, fmt: str, *, source: str, defaults: formats.Defaults) -> formats.ParseResult:
    """Parse uploaded bytes in `fmt`; raises formats.FormatError for a file refused as a whole."""
    if fmt == "native":
        return formats.parse_native(data, source=source, defaults=defaults)
    return formats.FORMATS[fmt].parse(data, source=source, defaults=defaults)


def _bank_data(bank: Bank) -> bankfile.BankData:
    """The bank's structure in the checker's shape, so the file format's rules run against this bank."""
    domains = [
        {"number": d.number, "name": d.name, "weight": d.weight, "tasks": [{"code": t.code} for t in d.tasks.all()]}
        for d in bank.domains.prefetch_related("tasks")
    ]
    topics = [{"slug": t.slug, "name": t.name, "min_questions": t.min_questions} for t in bank.topics.all()]
    notes = [bankfile.Note(n.key, n.heading, n.text, n.position) for n in bank.notes.all()]
    return bankfile.BankData(meta={"domains": domains, "topics": topics}, notes=notes)


def import_preview(*, bank: Bank, result: formats.ParseResult) -> ImportPreview:
    """What importing `result` into `bank` would do, without writing anything."""
    preview = ImportPreview(skipped=list(result.skipped), errors=list(result.errors), warnings=list(result.warnings))
    structure = _bank_data(bank)
    existing = {
        q.key: q
        for q in Question.objects.filter(bank=bank, key__in=[q.get("key") for q in result.questions]).select_related(
            "current_version"
        )
    }
    seen = {}
    failed = {(problem.file, problem.line) for problem in result.errors}  # the reader has reported these already
    for raw in result.questions:
        source, line = formats.where(raw)
        if (source, line) in failed:
            continue
        question = formats.clean(raw)
        key = question.get("key", "")
        if key in seen:
            preview.errors.append(formats.Problem(source, line, f"key {key!r} is also used on line {seen[key]}"))
            continue
        seen[key] = line
        structural, authoring = [], []
        for problem in bankfile.question_problems({**question, "__source__": source}, structure):
            target = authoring if any(rule.match(problem.message) for rule in formats.AUTHORING_RULES) else structural
            target.append(problem.message)
        if structural:
            preview.errors.extend(formats.Problem(source, line, message) for message in structural)
            continue
        planned = PlannedQuestion(key=key, line=line, stem=str(question.get("stem", ""))[:140], draft_reasons=authoring)
        current = existing.get(key)
        if current is None or current.current_version is None:
            preview.created.append(planned)
            continue
        if current.current_version.content_hash == content_hash(question):
            preview.unchanged.append(planned)
            continue
        before = _version_as_file_dict(current.current_version)
        after = canonical_question(question)
        planned.changes = [name for name in COMPARED_FIELDS if _norm(before.get(name)) != _norm(after.get(name))]
        preview.updated.append(planned)
    return preview


def _norm(value):
    return sorted(value) if isinstance(value, list) and value and isinstance(value[0], str) else value


def _version_as_file_dict(version) -> dict:
    return canonical_question(
        {
            "key": version.question.key,
            "domain": version.domain.number,
            "task": version.task.code,
            "topic": version.topic.slug,
            "notes": [n.key for n in version.notes.all()],
            "type": version.kind,
            "stem": version.stem,
            "options": [
                {"text": c.text, "correct": c.is_correct, "rationale": c.rationale} for c in version.choices.all()
            ],
            "explanation": version.explanation,
            "references": version.references,
        }
    )


@transaction.atomic
def import_apply(
    *, bank: Bank, result: formats.ParseResult, publish: bool = True, file_name: str = ""
) -> ImportPreview:
    """Import every question of `result` into `bank` in one transaction, or raise ImportRefused and write nothing.

    New and changed questions are published when `publish` is set and they meet every authoring rule; the others
    land as drafts (the preview says why), so nothing a file holds is lost and nothing half-written is drawn.
    """
    preview = import_preview(bank=bank, result=result)
    if not preview.ok:
        raise ImportRefused(preview)
    domains = {d.number: d for d in bank.domains.prefetch_related("tasks")}
    tasks = {t.code: t for d in domains.values() for t in d.tasks.all()}
    topics = {t.slug: t for t in bank.topics.all()}
    notes = {n.key: n for n in bank.notes.all()}
    by_key = {formats.clean(q)["key"]: formats.clean(q) for q in result.questions}
    existing = {
        q.key: q for q in Question.objects.filter(bank=bank, key__in=list(by_key)).select_related("current_version")
    }
    for planned in [*preview.created, *preview.updated]:
        question = by_key[planned.key]
        data = QuestionData(
            key=planned.key,
            domain=domains[int(question["domain"])],
            task=tasks[str(question["task"])],
            topic=topics[question["topic"]],
            notes=[notes[n] for n in question.get("notes") or []],
            kind=question["type"],
            stem=str(question["stem"]),
            options=[
                {"text": str(o["text"]), "correct": bool(o.get("correct")), "rationale": str(o.get("rationale", ""))}
                for o in question["options"]
            ],
            explanation=str(question.get("explanation", "")),
            references=list(question.get("references") or []),
        )
        saved = question_save(bank=bank, data=data, question=existing.get(planned.key), audited=False)
        if publish and not planned.draft_reasons and saved.status != Question.Status.PUBLISHED:
            question_set_status(question=saved, status=Question.Status.PUBLISHED, audited=False)
    audit.record(
        "import.apply",
        summary=f"Imported {file_name or 'a file'}: {len(preview.created)} new, {len(preview.updated)} updated",
        target=bank,
        detail={
            "file": file_name,
            "publish": publish,
            # Lists of keys sit inside a dict: a bare two-item list reads as [old, new] on the trail's pages.
            "created": {"count": len(preview.created), "keys": [p.key for p in preview.created]},
            "updated": {"count": len(preview.updated), "keys": [p.key for p in preview.updated]},
            "unchanged": len(preview.unchanged),
        },
        bank_id=bank.pk,
    )
    return preview


def bank_questions_for_export(bank: Bank) -> list[dict]:
    """The bank's published questions in the native shape, for the format writers."""
    data = bank_export_data(bank)
    return [q for questions in data["question_files"].values() for q in questions]
