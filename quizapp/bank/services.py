"""Writes to the bank: load a bank folder (all-or-nothing, versioned by content) and export it back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from django.db.models import F
from django.utils.text import slugify

from . import bankfile
from .models import Bank, Choice, Domain, Note, Question, QuestionVersion, TaskStatement, Topic


class BankLoadError(Exception):
    """The bank folder breaks the format; nothing was written. `problems` lists each with file and line."""

    def __init__(self, problems):
        self.problems = [str(p) for p in problems]
        super().__init__(f"{len(self.problems)} problem(s):\n" + "\n".join(self.problems))


@dataclass
class LoadReport:
    bank: Bank
    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)
    unchanged: int = 0
    retired: list[str] = field(default_factory=list)
    # The folder's exam definitions, for the layer that knows exams to sync (the bank knows nothing of exams).
    exam_definitions: list[dict] = field(default_factory=list)

    def __str__(self):
        return (
            f"{self.bank.slug}: {len(self.created)} new, {len(self.new_versions)} changed (new version), "
            f"{self.unchanged} unchanged, {len(self.retired)} retired"
        )


OPTION_FIELDS = ("text", "correct", "rationale")


def canonical_question(question: dict) -> dict:
    """The question as the format writes it: fixed key order, `correct` only where true, stripped text."""
    options = []
    for option in question["options"]:
        item = {"text": str(option["text"]).strip()}
        if option.get("correct"):
            item["correct"] = True
        item["rationale"] = str(option.get("rationale", "")).strip()
        options.append(item)
    canonical = {
        "key": question["key"],
        "domain": int(question["domain"]),
        "task": str(question["task"]),
        "topic": question["topic"],
        "notes": list(question.get("notes") or []),
        "type": question["type"],
        "stem": str(question["stem"]).strip(),
        "options": options,
        "explanation": str(question["explanation"]).strip(),
    }
    if question.get("references"):  # optional: absent references leave the digest as it was
        canonical["references"] = [str(url).strip() for url in question["references"]]
    return canonical


def content_hash(question: dict) -> str:
    """A digest of what the question says; the order its notes are listed in does not count (the export sorts)."""
    canonical = canonical_question(question)
    canonical["notes"] = sorted(canonical["notes"])
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@transaction.atomic
def bank_load(*, path: str | Path, owner=None, retire_missing: bool = True) -> LoadReport:
    """Load a bank folder into the database, or raise BankLoadError and write nothing.

    Questions are matched by key: a new key creates a question, changed content adds a version (attempts keep
    the version they used), unchanged content does nothing. Questions no longer in the folder are retired, not
    deleted, because past attempts point at their versions.
    """
    try:
        data = bankfile.read_bank_dir(path)
    except (ValueError, OSError) as error:
        raise BankLoadError([error]) from error
    problems = bankfile.structural_problems(data) + bankfile.meta_problems(data)
    if problems:
        raise BankLoadError(problems)

    meta = data.meta
    bank, _ = Bank.objects.update_or_create(
        slug=meta["slug"],
        defaults={"title": meta["title"], "description": meta.get("description", ""), "owner": owner},
        # A folder loaded by a site administrator is meant to be taken: published when first created.
        create_defaults={
            "title": meta["title"],
            "description": meta.get("description", ""),
            "owner": owner,
            "status": Bank.Status.PUBLISHED,
        },
    )
    notes_path = Path(path) / "notes.md"
    bank.notes_source = notes_path.read_text(encoding="utf-8") if notes_path.exists() else ""
    bank.save(update_fields=["notes_source"])

    domains, tasks = {}, {}
    for item in meta["domains"]:
        domain, _ = Domain.objects.update_or_create(
            bank=bank, number=item["number"], defaults={"name": item["name"], "weight": item["weight"]}
        )
        domains[domain.number] = domain
        for task_item in item["tasks"]:
            task, _ = TaskStatement.objects.update_or_create(
                domain=domain, code=str(task_item["code"]), defaults={"name": task_item["name"]}
            )
            tasks[task.code] = task
    topics = {}
    for item in meta["topics"]:
        topic, _ = Topic.objects.update_or_create(
            bank=bank,
            slug=item["slug"],
            defaults={"name": item["name"], "min_questions": item.get("min_questions", 0)},
        )
        topics[topic.slug] = topic
    notes = {}
    for note in data.notes:
        saved, _ = Note.objects.update_or_create(
            bank=bank, key=note.id, defaults={"heading": note.heading, "text": note.text, "position": note.position}
        )
        notes[note.id] = saved

    report = LoadReport(bank=bank)
    existing = {q.key: q for q in Question.objects.filter(bank=bank).select_related("current_version")}
    for raw in data.questions:
        question = canonical_question(raw)
        digest = content_hash(question)
        current = existing.get(question["key"])
        if current and current.current_version and current.current_version.content_hash == digest:
            if current.status != Question.Status.PUBLISHED:
                current.status = Question.Status.PUBLISHED
                current.save(update_fields=["status"])
            report.unchanged += 1
            continue
        if current is None:
            current = Question.objects.create(bank=bank, key=question["key"])
            report.created.append(current.key)
        else:
            report.new_versions.append(current.key)
        number = (current.current_version.number if current.current_version else 0) + 1
        version = QuestionVersion.objects.create(
            question=current,
            number=number,
            domain=domains[question["domain"]],
            task=tasks[question["task"]],
            topic=topics[question["topic"]],
            kind=question["type"],
            stem=question["stem"],
            explanation=question["explanation"],
            references=question.get("references", []),
            content_hash=digest,
        )
        version.notes.set([notes[key] for key in question["notes"]])
        Choice.objects.bulk_create(
            Choice(
                version=version,
                position=position,
                text=option["text"],
                is_correct=option.get("correct", False),
                rationale=option["rationale"],
            )
            for position, option in enumerate(question["options"], start=1)
        )
        current.current_version = version
        current.status = Question.Status.PUBLISHED
        current.save(update_fields=["current_version", "status"])

    if retire_missing:
        loaded = {q["key"] for q in data.questions}
        for key, question in existing.items():
            if key not in loaded and question.status != Question.Status.RETIRED:
                question.status = Question.Status.RETIRED
                question.save(update_fields=["status"])
                report.retired.append(key)

    report.exam_definitions = list(meta.get("exams") or [])
    return report


class _BlockStyleDumper(yaml.SafeDumper):
    """Write long or multi-line text as folded blocks so exported files read like the hand-written ones."""


def _represent_str(dumper, value):
    style = "|" if "\n" in value else (">" if len(value) > 80 else None)
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockStyleDumper.add_representer(str, _represent_str)


def dump_yaml(value) -> str:
    return yaml.dump(value, Dumper=_BlockStyleDumper, sort_keys=False, allow_unicode=True, width=100)


def bank_export_data(bank: Bank, exam_definitions: list[dict] | None = None) -> dict:
    """The bank as plain data in the file format: meta, notes source, and canonical questions by domain.

    `exam_definitions` is what the layer that knows exams adds under `exams:` (the bank knows nothing of exams).
    """
    domains = list(bank.domains.prefetch_related("tasks"))
    meta = {
        "slug": bank.slug,
        "title": bank.title,
        "description": bank.description,
        "domains": [
            {
                "number": d.number,
                "name": d.name,
                "weight": d.weight,
                "tasks": [{"code": t.code, "name": t.name} for t in d.tasks.all()],
            }
            for d in domains
        ],
        "topics": [
            {"slug": t.slug, "name": t.name, **({"min_questions": t.min_questions} if t.min_questions else {})}
            for t in bank.topics.order_by("id")
        ],
    }
    if exam_definitions:
        meta["exams"] = exam_definitions
    versions = (
        QuestionVersion.objects.filter(question__bank=bank, question__status=Question.Status.PUBLISHED)
        .filter(question__current_version__id=F("id"))
        .select_related("question", "domain", "task", "topic")
        .prefetch_related("choices", "notes")
        .order_by("domain__number", "question__id")
    )
    by_domain: dict[int, list] = {d.number: [] for d in domains}
    for version in versions:
        by_domain[version.domain.number].append(
            {
                "key": version.question.key,
                "domain": version.domain.number,
                "task": version.task.code,
                "topic": version.topic.slug,
                "notes": [note.key for note in sorted(version.notes.all(), key=lambda n: n.position)],
                "type": version.kind,
                "stem": version.stem,
                "options": [
                    {"text": c.text, **({"correct": True} if c.is_correct else {}), "rationale": c.rationale}
                    for c in version.choices.all()
                ],
                "explanation": version.explanation,
                **({"references": list(version.references)} if version.references else {}),
            }
        )
    files = {}
    for domain in domains:
        if by_domain[domain.number]:
            files[f"questions/d{domain.number}-{slugify(domain.name)}.yaml"] = by_domain[domain.number]
    return {"meta": meta, "notes_source": bank.notes_source, "question_files": files}


def bank_export(*, bank: Bank, fmt: str = "yaml", exam_definitions: list[dict] | None = None) -> dict[str, str]:
    """Render the bank to files: {relative path: text}. YAML is the folder format; JSON is one document."""
    data = bank_export_data(bank, exam_definitions)
    if fmt == "json":
        document = {
            **data["meta"],
            "notes_source": data["notes_source"],
            "questions": [q for questions in data["question_files"].values() for q in questions],
        }
        return {f"{bank.slug}.json": json.dumps(document, indent=2, ensure_ascii=False) + "\n"}
    files = {"bank.yaml": dump_yaml(data["meta"])}
    if data["notes_source"]:
        files["notes.md"] = data["notes_source"]
    for path, questions in data["question_files"].items():
        files[path] = dump_yaml({"questions": questions})
    return files
