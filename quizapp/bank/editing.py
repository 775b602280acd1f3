"""Writes of the instructor's bank editor: banks, editors, questions and their versions, status, reports.

Rules shared with the file format come from bankfile.py, so a question saved on the web always loads and exports.
"""

from __future__ import annotations

import difflib
import functools
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import slugify

from quizapp import audit
from quizapp.accounts.models import User

from . import bankfile
from .models import Bank, Choice, Domain, Note, Question, QuestionReport, QuestionVersion, TaskStatement, Topic
from .services import content_hash

SHIPPED_BLUEPRINT = Path(__file__).resolve().parent / "data" / "dop-c02"


class EditRefused(Exception):
    """The change is not allowed; nothing was written."""


# --- Banks and editors ----------------------------------------------------------------------------------------


def unique_bank_slug(title: str) -> str:
    base = slugify(title)[:50] or "bank"
    slug, n = base, 2
    while Bank.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@functools.cache
def exam_structure() -> dict:
    """The DOP-C02 domains, task statements and topics, from the shipped bank.yaml (read once per process)."""
    text = (SHIPPED_BLUEPRINT / "bank.yaml").read_text(encoding="utf-8")
    return bankfile.strip_lines(bankfile.parse_yaml(text, "bank.yaml"))


@transaction.atomic
def bank_create(*, owner: User, title: str, description: str = "") -> Bank:
    """Create a draft bank owned by `owner`, with the DOP-C02 exam's domains, task statements and topics.

    Every bank in this app prepares for the same exam, so its structure is the exam guide's; the questions, the
    notes and the exams drawn from it are the instructor's own.
    """
    meta = exam_structure()
    bank = Bank.objects.create(
        slug=unique_bank_slug(title), title=title, description=description, owner=owner, status=Bank.Status.DRAFT
    )
    for item in meta["domains"]:
        domain = Domain.objects.create(bank=bank, number=item["number"], name=item["name"], weight=item["weight"])
        TaskStatement.objects.bulk_create(
            TaskStatement(domain=domain, code=str(task["code"]), name=task["name"]) for task in item["tasks"]
        )
    Topic.objects.bulk_create(
        Topic(bank=bank, slug=t["slug"], name=t["name"], min_questions=t.get("min_questions", 0))
        for t in meta["topics"]
    )
    audit.record("bank.create", summary=f"Created the bank {bank.title}", target=bank, bank_id=bank.pk)
    return bank


BANK_ACTIONS = {Bank.Status.PUBLISHED: "bank.publish", Bank.Status.DRAFT: "bank.unpublish"}


@transaction.atomic
def bank_update(*, bank: Bank, title: str, description: str, status: str) -> Bank:
    # From the database: a ModelForm has already written the new values onto `bank`.
    before = audit.snapshot(Bank.objects.get(pk=bank.pk), ["title", "description", "status"])
    bank.title, bank.description, bank.status = title, description, status
    bank.save(update_fields=["title", "description", "status", "updated_at"])
    if changed := audit.changes(bank, before, before):
        action = BANK_ACTIONS[status] if "status" in changed else "bank.edit"
        audit.record(
            action, summary=f"{bank.title}: {', '.join(changed)} changed", target=bank, detail=changed, bank_id=bank.pk
        )
    return bank


def bank_add_editor(*, bank: Bank, username: str) -> User:
    """Let an instructor edit the bank; raises EditRefused with a message the owner can act on."""
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise EditRefused(f"No account is called “{username.strip()}”.")
    if not user.is_instructor and not user.is_staff:
        raise EditRefused(f"{user.username} is not an instructor; staff can grant the role.")
    if user.pk == bank.owner_id:
        raise EditRefused(f"{user.username} owns this bank already.")
    with transaction.atomic():
        bank.editors.add(user)
        audit.record("bank.editor_add", summary=f"{user.username} may edit {bank.title}", target=user, bank_id=bank.pk)
    return user


@transaction.atomic
def bank_remove_editor(*, bank: Bank, user_id: int) -> None:
    user = bank.editors.filter(pk=user_id).first()
    if user is None:
        return
    bank.editors.remove(user)
    audit.record(
        "bank.editor_remove", summary=f"{user.username} no longer edits {bank.title}", target=user, bank_id=bank.pk
    )


# --- Questions ------------------------------------------------------------------------------------------------


@dataclass
class QuestionData:
    """A question as the editor form gives it, in the file format's shape (see docs/bank-format.md)."""

    key: str
    domain: Domain
    task: TaskStatement
    topic: Topic
    notes: list[Note]
    kind: str
    stem: str
    options: list[dict]  # {"text", "correct", "rationale"} in the author's order
    explanation: str
    references: list[str]

    def as_file_dict(self) -> dict:
        return {
            "key": self.key,
            "domain": self.domain.number,
            "task": self.task.code,
            "topic": self.topic.slug,
            "notes": [note.key for note in self.notes],
            "type": self.kind,
            "stem": self.stem.strip(),
            "options": [
                {"text": o["text"].strip(), **({"correct": True} if o["correct"] else {}), "rationale": o["rationale"]}
                for o in self.options
            ],
            "explanation": self.explanation.strip(),
            **({"references": self.references} if self.references else {}),
        }


def new_question_key(bank: Bank, stem: str) -> str:
    base = f"q-{slugify(stem)[:40].strip('-') or 'question'}"
    key = base
    while Question.objects.filter(bank=bank, key=key).exists():
        key = f"{base}-{secrets.token_hex(2)}"
    return key


@transaction.atomic
def question_save(
    *, bank: Bank, data: QuestionData, question: Question | None = None, audited: bool = True
) -> Question:
    """Create a question (a draft) or save an edit; changed content becomes a new version.

    Versions are frozen: attempts point at the version they drew, so an edit never touches a past attempt, its
    review or its score. An unchanged save writes nothing. An import records one event for the whole file
    (`audited=False` here).
    """
    file_dict = data.as_file_dict()
    digest = content_hash(file_dict)
    created = question is None
    if question is None:
        question = Question.objects.create(bank=bank, key=data.key, status=Question.Status.DRAFT)
    current = question.current_version
    if current is not None and current.content_hash == digest:
        return question
    version = QuestionVersion.objects.create(
        question=question,
        number=(current.number if current else 0) + 1,
        domain=data.domain,
        task=data.task,
        topic=data.topic,
        kind=data.kind,
        stem=file_dict["stem"],
        explanation=file_dict["explanation"],
        references=data.references,
        content_hash=digest,
    )
    version.notes.set(data.notes)
    Choice.objects.bulk_create(
        Choice(version=version, position=n, text=o["text"], is_correct=bool(o.get("correct")), rationale=o["rationale"])
        for n, o in enumerate(file_dict["options"], start=1)
    )
    question.current_version = version
    question.save(update_fields=["current_version"])
    if audited:
        old = current.number if current else None
        audit.record(
            "question.create" if created else "question.edit",
            summary=f"{question.key}: {'created' if created else f'version {old} → {version.number}'}",
            target=question,
            detail={"version": [old, version.number]},
            bank_id=bank.pk,
        )
    return question


STATUS_CHANGES = {
    Question.Status.DRAFT: {Question.Status.PUBLISHED},
    Question.Status.PUBLISHED: {Question.Status.RETIRED},
    Question.Status.RETIRED: {Question.Status.PUBLISHED},
}


@transaction.atomic
def question_set_status(*, question: Question, status: str, audited: bool = True) -> Question:
    """Draft → published → retired (and back to published); only published questions enter new attempts."""
    if status not in STATUS_CHANGES.get(question.status, set()):
        raise EditRefused(f"A {question.get_status_display().lower()} question cannot become {status}.")
    if status == Question.Status.PUBLISHED and question.current_version is None:
        raise EditRefused("Write the question before publishing it.")
    old, question.status = question.status, status
    question.save(update_fields=["status"])
    if audited:
        action = "question.retire" if status == Question.Status.RETIRED else "question.publish"
        audit.record(
            action,
            summary=f"{question.key}: {old} → {status}",
            target=question,
            detail={"status": [old, status]},
            bank_id=question.bank_id,
        )
    return question


# --- Version history --------------------------------------------------------------------------------------------


def _word_diff(old: str, new: str):
    """Old and new text with removed words in <del> and added words in <ins>, every word escaped."""
    old_words, new_words = old.split(), new.split()
    parts = []
    for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False).get_opcodes():
        if tag in ("delete", "replace"):
            parts.append(f"<del>{escape(' '.join(old_words[a1:a2]))}</del>")
        if tag in ("insert", "replace"):
            parts.append(f"<ins>{escape(' '.join(new_words[b1:b2]))}</ins>")
        if tag == "equal":
            parts.append(escape(" ".join(old_words[a1:a2])))
    return mark_safe(" ".join(parts))  # noqa: S308 - every word was escaped above


def version_lines(version: QuestionVersion) -> list[tuple[str, str]]:
    """The fields a reader compares, as (label, text) pairs."""
    lines = [
        ("Stem", version.stem),
        ("Type", version.get_kind_display()),
        ("Domain and task", f"{version.domain.number} · {version.task.code} · {version.topic.name}"),
    ]
    for n, choice in enumerate(version.choices.all(), start=1):
        mark = "correct" if choice.is_correct else "incorrect"
        lines.append((f"Option {n} ({mark})", choice.text))
        lines.append((f"Rationale {n}", choice.rationale))
    lines.append(("Explanation", version.explanation))
    lines.append(("Notes", ", ".join(note.key for note in version.notes.all())))
    lines.append(("References", " ".join(version.references)))
    return lines


def version_diff(old: QuestionVersion, new: QuestionVersion) -> list[dict]:
    """A field-by-field comparison of two versions, marking what changed."""
    before, after = dict(version_lines(old)), dict(version_lines(new))
    rows = []
    for label in dict.fromkeys([*before, *after]):
        a, b = before.get(label, ""), after.get(label, "")
        rows.append({"label": label, "changed": a != b, "html": _word_diff(a, b) if a != b else escape(b)})
    return rows


# --- Learner reports ------------------------------------------------------------------------------------------


def report_create(*, version: QuestionVersion, reporter: User, kind: str, text: str) -> QuestionReport:
    return QuestionReport.objects.create(version=version, reporter=reporter, kind=kind, text=text.strip())


@transaction.atomic
def report_close(*, report: QuestionReport, by: User, status: str, reply: str, now) -> QuestionReport:
    """Resolve or dismiss a report with a reply the learner sees on their dashboard."""
    if status not in (QuestionReport.Status.RESOLVED, QuestionReport.Status.DISMISSED):
        raise EditRefused("Choose resolve or dismiss.")
    report.status, report.reply, report.replied_by, report.closed_at = status, reply.strip(), by, now
    report.save(update_fields=["status", "reply", "replied_by", "closed_at"])
    question = report.version.question
    audit.record(
        "report.close",
        summary=f"Report on {question.key} {status}",
        target=report,
        detail={"status": ["open", status]},
        bank_id=question.bank_id,
    )
    return report
