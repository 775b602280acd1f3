"""Writes of the exam engine. Every function takes `now` from its caller: the server owns the clock."""

from __future__ import annotations

import json
import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q

from quizapp import audit
from quizapp.bank.models import Bank, Choice, Domain, Question
from quizapp.bank.services import LoadReport, bank_export, bank_load

from .access import AccessRules, solo_rules
from .grading import is_response_correct
from .models import Attempt, AttemptSlot, AttemptState, ExamBlueprint
from .signals import attempt_finished


class AttemptClosed(Exception):
    """The attempt no longer takes answers; nothing was changed."""


class AnswerRejected(Exception):
    """The answer is not valid for this question; nothing was changed."""


def answer_grace() -> timedelta:
    return timedelta(seconds=settings.EXAM_ANSWER_GRACE_SECONDS)


# --- Blueprints: the exam catalogue is data that ships with a bank -------------------------------------------

BLUEPRINT_FIELDS = (
    "title",
    "description",
    "mode",
    "question_count",
    "duration_minutes",
    "pass_mark_percent",
    "domain_selection",
    "domain_weights",
)


@transaction.atomic
def blueprints_sync(*, bank: Bank, definitions: list[dict]) -> list[ExamBlueprint]:
    """Create or update the bank's exam blueprints; ones no longer defined are hidden, not deleted."""
    blueprints = []
    for position, item in enumerate(definitions, start=1):
        defaults = {name: item.get(name) for name in BLUEPRINT_FIELDS}
        defaults["description"] = (defaults["description"] or "").strip()
        defaults["domain_selection"] = defaults["domain_selection"] or ExamBlueprint.DomainSelection.WEIGHTED
        defaults["domain_weights"] = {str(k): v for k, v in (defaults["domain_weights"] or {}).items()}
        defaults.update(position=position, is_active=True)
        blueprint, _ = ExamBlueprint.objects.update_or_create(bank=bank, slug=item["slug"], defaults=defaults)
        blueprints.append(blueprint)
    ExamBlueprint.objects.filter(bank=bank).exclude(slug__in=[b.slug for b in blueprints]).update(is_active=False)
    return blueprints


@transaction.atomic
def bank_folder_load(*, path) -> LoadReport:
    """Load a bank folder with the exam catalogue it ships (all-or-nothing across both)."""
    report = bank_load(path=path)
    blueprints_sync(bank=report.bank, definitions=report.exam_definitions)
    if report.created or report.new_versions or report.retired:  # an unchanged reload (every deploy) is no news
        audit.record(
            "import.apply",
            summary=f"Loaded the bank folder {Path(path).name}: {report}",
            target=report.bank,
            detail={
                "folder": str(path),
                "created": {"count": len(report.created), "keys": report.created},
                "updated": {"count": len(report.new_versions), "keys": report.new_versions},
                "retired": {"count": len(report.retired), "keys": report.retired},
            },
            bank_id=report.bank.pk,
        )
    return report


def bank_folder_export(*, bank: Bank, fmt: str = "yaml") -> dict[str, str]:
    """Export a bank with its active exams in the folder format (see bank_export)."""
    return bank_export(bank=bank, fmt=fmt, exam_definitions=blueprints_as_data(bank))


def blueprints_as_data(bank: Bank) -> list[dict]:
    """The active blueprints in the bank file's form (for export)."""
    result = []
    for blueprint in bank.blueprints.filter(is_active=True).order_by("position"):
        item = {"slug": blueprint.slug}
        for name in BLUEPRINT_FIELDS:
            value = getattr(blueprint, name)
            if value not in (None, "", {}):
                item[name] = value
        result.append(item)
    return result


# --- Drawing questions ----------------------------------------------------------------------------------------


def allocate_by_weight(count: int, weights: dict[int, int], available: dict[int, int]) -> dict[int, int]:
    """Split `count` questions across domains by weight (largest remainder), within what each domain has.

    A domain with too few questions gives its shortfall to the others, again by weight, so a small bank still
    yields as full an exam as it can.
    """
    allocation = {domain: 0 for domain in weights}
    remaining = min(count, sum(available.values()))
    while remaining > 0:
        open_domains = {d: w for d, w in weights.items() if available.get(d, 0) > allocation[d] and w > 0}
        if not open_domains:
            open_domains = {d: 1 for d in weights if available.get(d, 0) > allocation[d]}
        if not open_domains:
            break
        total_weight = sum(open_domains.values())
        quotas = {d: remaining * w / total_weight for d, w in open_domains.items()}
        shares = {d: int(q) for d, q in quotas.items()}
        leftover = remaining - sum(shares.values())
        for domain in sorted(quotas, key=lambda d: (-(quotas[d] - shares[d]), d))[:leftover]:
            shares[domain] += 1
        given = 0
        for domain, share in shares.items():
            take = min(share, available[domain] - allocation[domain])
            allocation[domain] += take
            given += take
        remaining -= given
        if given == 0:
            break
    return allocation


def _draw_pool(*, blueprint: ExamBlueprint, domain: Domain | None) -> list[tuple[int, int, int]]:
    """The published questions an attempt of this exam may draw: (question id, current version id, domain number)."""
    rows = (
        Question.objects.published()
        .filter(bank_id=blueprint.bank_id)
        .order_by("pk")  # not the default order, which joins the bank for its title
        .values_list("pk", "current_version_id", "current_version__domain__number")
    )
    if domain is not None:
        rows = rows.filter(current_version__domain=domain)
    if blueprint.topic_id:
        rows = rows.filter(current_version__topic_id=blueprint.topic_id)
    return list(rows)


def _times_seen(*, user_ids, bank_id) -> dict[int, dict[int, int]]:
    """For each learner, how many of their slots showed each question of the bank: {user id: {question id: n}}.

    Counted from these learners' own slots, found by their attempt ids, never by joining the bank's questions to
    every slot anyone has: the cost of a start stays flat however many exams others have taken. The ids are
    fetched first because one joined query let PostgreSQL, without fresh statistics (a new database, a table
    growing through a group's start), walk every slot of the bank's questions; learners with no attempt yet (a
    first exam) cost no count at all.
    """
    owner_of = dict(Attempt.objects.filter(user_id__in=user_ids).order_by().values_list("pk", "user_id"))
    seen: dict[int, dict[int, int]] = {}
    attempt_ids = list(owner_of)
    for start in range(0, len(attempt_ids), 500):  # SQLite caps the parameters of one statement
        rows = (
            AttemptSlot.objects.filter(
                attempt_id__in=attempt_ids[start : start + 500], question_version__question__bank_id=bank_id
            )
            .values_list("attempt_id", "question_version__question_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for attempt_id, question_id, n in rows:
            counts = seen.setdefault(owner_of[attempt_id], {})
            counts[question_id] = counts.get(question_id, 0) + n
    return seen


def _pick(*, blueprint: ExamBlueprint, domain: Domain | None, pool, seen: dict[int, int], rng, weights) -> list[int]:
    """Version ids for one attempt from the pool: by domain weight, the least-seen questions first, shuffled."""
    by_domain: dict[int, list[tuple[int, float, int]]] = {}
    for question_id, version_id, domain_number in pool:
        by_domain.setdefault(domain_number, []).append((seen.get(question_id, 0), rng.random(), version_id))
    if domain is not None:
        allocation = {domain.number: blueprint.question_count}
    else:
        allocation = allocate_by_weight(
            blueprint.question_count, weights, {d: len(by_domain.get(d, [])) for d in weights}
        )
    drawn = []
    for domain_number, take in allocation.items():
        drawn.extend(version_id for _, _, version_id in sorted(by_domain.get(domain_number, []))[:take])
    rng.shuffle(drawn)
    return drawn


def draw_versions(*, blueprint: ExamBlueprint, user, domain: Domain | None, rng: random.Random) -> list[int]:
    """Pick question version ids for a new attempt, preferring questions this learner has seen least."""
    pool = _draw_pool(blueprint=blueprint, domain=domain)
    seen = _times_seen(user_ids=[user.pk], bank_id=blueprint.bank_id).get(user.pk, {})
    weights = blueprint.weights() if domain is None else {}
    return _pick(blueprint=blueprint, domain=domain, pool=pool, seen=seen, rng=rng, weights=weights)


# --- Attempts -------------------------------------------------------------------------------------------------


def blueprint_shortfalls(
    *, bank: Bank, question_count: int, weights: dict, domain_selection: str, topic=None
) -> list[str]:
    """Why the bank cannot fill an exam of this shape, one line per domain that lacks questions (empty: it can)."""
    published = Question.objects.published().filter(bank=bank)
    if topic is not None:
        published = published.filter(current_version__topic=topic)
    rows = published.values("current_version__domain__number").annotate(n=Count("id"))
    available = {row["current_version__domain__number"]: row["n"] for row in rows}
    domains = {d.number: d for d in bank.domains.all()}
    where = f" on the topic “{topic.name}”" if topic is not None else ""
    if domain_selection == ExamBlueprint.DomainSelection.CHOSEN:
        return [
            f"Domain {n} ({d.name}) has {available.get(n, 0)} published question(s){where}; "
            f"a drill needs {question_count}."
            for n, d in domains.items()
            if available.get(n, 0) < question_count
        ]
    weights = {int(k): int(v) for k, v in weights.items()} if weights else {n: d.weight for n, d in domains.items()}
    needed = allocate_by_weight(question_count, weights, {n: question_count for n in weights})
    problems = [
        f"Domain {n} ({domains[n].name}) has {available.get(n, 0)} published question(s){where}; "
        f"this exam draws {take} from it."
        for n, take in needed.items()
        if n in domains and available.get(n, 0) < take
    ]
    return problems


# What an instructor can change on the exam form; the audit trail says which of them a save changed.
BLUEPRINT_AUDITED = (
    "title",
    "description",
    "mode",
    "question_count",
    "duration_minutes",
    "pass_mark_percent",
    "domain_selection",
    "domain_weights",
    "topic_id",
    "shuffle_options",
    "is_active",
)


@transaction.atomic
def blueprint_save(*, bank: Bank, blueprint: ExamBlueprint, slug: str | None = None) -> ExamBlueprint:
    """Save an instructor's exam definition for their bank (the form has checked it can be filled)."""
    blueprint.bank = bank
    if not blueprint.pk:
        base = slug or "exam"
        blueprint.slug, n = base, 2
        while ExamBlueprint.objects.filter(bank=bank, slug=blueprint.slug).exists():
            blueprint.slug, n = f"{base}-{n}", n + 1
        blueprint.position = (bank.blueprints.aggregate(m=Max("position"))["m"] or 0) + 1
    if not blueprint.is_timed:
        blueprint.duration_minutes = (
            None if blueprint.mode == ExamBlueprint.Mode.PRACTICE else blueprint.duration_minutes
        )
    created = not blueprint.pk
    before = {} if created else audit.snapshot(ExamBlueprint.objects.get(pk=blueprint.pk), BLUEPRINT_AUDITED)
    blueprint.save()
    changed = audit.changes(blueprint, before, BLUEPRINT_AUDITED)
    if created or changed:
        audit.record(
            "blueprint.save",
            summary=f"{'Created' if created else 'Changed'} the exam {blueprint.title}"
            + ("" if created else f": {', '.join(changed)}"),
            target=blueprint,
            detail={"created": created, **changed},
            bank_id=bank.pk,
        )
    return blueprint


class StartRefused(ValueError):
    """An access rule forbids a new attempt now (not open yet, closed, no attempts left); nothing was created."""


@transaction.atomic
def attempt_start(
    *,
    user,
    blueprint: ExamBlueprint,
    now: datetime,
    domain: Domain | None = None,
    rng: random.Random | None = None,
    rules: AccessRules | None = None,
    context: str = "",
    started_at: datetime | None = None,
    review_opens_at: datetime | None = None,
    version_ids: list[int] | None = None,
) -> Attempt:
    """Start an attempt, or return the learner's open one for the same exam and context so that it resumes.

    The layers above pass what they decide: `rules` (default: the exam's duration plus the learner's own extra
    time) give the deadline and may refuse; `context` is a key the caller owns ("assignment:12") that keeps its
    attempts apart from the learner's own; `started_at` is a shared start moment (a group sitting) that may lie
    before `now`; `review_opens_at` hides the answers until then; `version_ids` are questions the caller drew.
    """
    if blueprint.asks_for_domain and domain is None and version_ids is None:
        raise ValueError("This exam needs a domain.")
    if not blueprint.asks_for_domain:
        domain = None
    open_attempts = (
        Attempt.objects.for_user(user).open().filter(blueprint=blueprint, chosen_domain=domain, context=context)
    )
    existing = open_attempts.first()
    if existing is not None:
        return existing
    rules = rules if rules is not None else solo_rules(blueprint=blueprint, user=user)
    refusal = rules.refusal(now)
    if refusal:
        raise StartRefused(refusal)
    rng = rng or random.SystemRandom()
    if version_ids is None:
        version_ids = draw_versions(blueprint=blueprint, user=user, domain=domain, rng=rng)
    if not version_ids:
        raise ValueError("This bank has no published questions for that exam yet.")
    start = started_at or now
    terms = {
        "context": context,
        "started_at": start,
        "deadline": rules.deadline(start),
        "review_opens_at": review_opens_at,
    }
    try:
        with transaction.atomic():
            return _create_attempt(
                user=user, blueprint=blueprint, domain=domain, version_ids=version_ids, rng=rng, terms=terms
            )
    except IntegrityError:
        # A concurrent start (another tab, a double submit) won the race for the one open attempt: resume it.
        winner = open_attempts.first()
        if winner is None:
            raise
        return winner


def _choice_ids(version_ids) -> dict[int, list[int]]:
    """Each version's choice ids in the bank file's option order (which their ids follow)."""
    choices: dict[int, list[int]] = {}
    for version_id, choice_id in (
        Choice.objects.filter(version_id__in=version_ids).order_by().values_list("version_id", "id")
    ):
        choices.setdefault(version_id, []).append(choice_id)
    return {version_id: sorted(ids) for version_id, ids in choices.items()}


def _new_attempt(*, user_id, blueprint, domain, version_ids, terms) -> Attempt:
    return Attempt(
        user_id=user_id,
        blueprint=blueprint,
        chosen_domain=domain,
        mode=blueprint.mode,
        pass_mark_percent=blueprint.pass_mark_percent,
        question_count=len(version_ids),
        **terms,
    )


def _slot_rows(*, attempt_id, version_ids, choices, shuffle, rng) -> list[tuple]:
    """A new attempt's slots as (attempt id, position, version id, option order), the columns a start decides."""
    rows = []
    for position, version_id in enumerate(version_ids, start=1):
        order = list(choices[version_id])
        if shuffle:
            rng.shuffle(order)
        rows.append((attempt_id, position, version_id, order))
    return rows


def _insert_slots(rows: list[tuple]) -> None:
    """Insert new slots, every other column at its initial value (nothing answered, flagged or timed).

    On PostgreSQL through COPY: a group sitting's start inserts 75 slots for each of hundreds of members in one
    request, and building and compiling that many model instances cost several times what the database did.
    """
    if connection.vendor != "postgresql":
        AttemptSlot.objects.bulk_create(
            [
                AttemptSlot(
                    attempt_id=attempt_id, position=position, question_version_id=version_id, choice_order=order
                )
                for attempt_id, position, version_id, order in rows
            ],
            batch_size=2000,
        )
        return
    fields = [AttemptSlot._meta.get_field(name) for name in _SLOT_INSERT_FIELDS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(AttemptSlot._meta.db_table)
    # psycopg's own COPY, under Django's error wrapper so that a failure is the IntegrityError (or other Django
    # database error) that callers catch, as it would be from bulk_create.
    copy_sql = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(copy_sql) as copy:
        for attempt_id, position, version_id, order in rows:
            copy.write_row((attempt_id, position, version_id, json.dumps(order), "[]", False, 0, False))


# The columns _insert_slots writes, in its rows' order; the nullable others start empty.
_SLOT_INSERT_FIELDS = (
    "attempt",
    "position",
    "question_version",
    "choice_order",
    "selected_choice_ids",
    "flagged",
    "seconds_spent",
    "is_first_exposure",
)


def _create_attempt(*, user, blueprint, domain, version_ids, rng, terms) -> Attempt:
    attempt = _new_attempt(user_id=user.pk, blueprint=blueprint, domain=domain, version_ids=version_ids, terms=terms)
    attempt.save(force_insert=True)
    attempt.user = user
    choices = _choice_ids(version_ids)
    _insert_slots(
        _slot_rows(
            attempt_id=attempt.pk, version_ids=version_ids, choices=choices, shuffle=blueprint.shuffle_options, rng=rng
        )
    )
    return attempt


@dataclass(frozen=True)
class PlannedStart:
    """One learner's attempt in a start of many: who, under which rules (the layer above decides them)."""

    user_id: int
    rules: AccessRules


def attempts_start_many(
    *,
    blueprint: ExamBlueprint,
    starts: list[PlannedStart],
    now: datetime,
    context: str,
    started_at: datetime,
    review_opens_at: datetime | None = None,
    rng: random.Random | None = None,
) -> dict[int, Attempt]:
    """Start many learners' attempts of one exam at one moment, in a fixed number of queries: {user id: attempt}.

    For a group sitting's start, where every seated member's attempt begins at the same second: one pool, one
    count of what each has seen, one insert of the attempts and batched inserts of their slots, instead of one
    whole start per learner in the seconds when all of them ask at once. A learner whose rules refuse, or who
    already has an open attempt of this exam in this context, is left out: their own next start (which resumes or
    says why not) deals with them. If a concurrent start wins the race for one learner's open attempt, the
    whole batch is undone and nobody is left out of anything: each starts on their own, as without the batch.
    Must run inside the caller's transaction.
    """
    if blueprint.asks_for_domain or not starts:
        return {}
    already_open = set(
        Attempt.objects.open()
        .filter(user_id__in=[start.user_id for start in starts], blueprint=blueprint, chosen_domain=None)
        .filter(context=context)
        .values_list("user_id", flat=True)
    )
    starts = [s for s in starts if s.user_id not in already_open and not s.rules.refusal(now)]
    if not starts:
        return {}
    # One generator seeded from the system's, not the system's for every draw: hundreds of learners' draws and
    # option shuffles are about 400,000 random numbers, and SystemRandom reads each from the kernel.
    rng = rng or random.Random(random.SystemRandom().getrandbits(128))
    pool = _draw_pool(blueprint=blueprint, domain=None)
    seen = _times_seen(user_ids=[start.user_id for start in starts], bank_id=blueprint.bank_id)
    weights = blueprint.weights()
    choices = _choice_ids([version_id for _, version_id, _ in pool])
    attempts, slots = {}, []
    for start in starts:
        version_ids = _pick(
            blueprint=blueprint, domain=None, pool=pool, seen=seen.get(start.user_id, {}), rng=rng, weights=weights
        )
        if not version_ids:
            return {}
        terms = {
            "context": context,
            "started_at": started_at,
            "deadline": start.rules.deadline(started_at),
            "review_opens_at": review_opens_at,
        }
        attempt = _new_attempt(
            user_id=start.user_id, blueprint=blueprint, domain=None, version_ids=version_ids, terms=terms
        )
        attempts[start.user_id] = attempt
        slots += _slot_rows(
            attempt_id=attempt.pk,
            version_ids=version_ids,
            choices=choices,
            shuffle=blueprint.shuffle_options,
            rng=rng,
        )
    try:
        with transaction.atomic():
            Attempt.objects.bulk_create(attempts.values(), batch_size=500)
            _insert_slots(slots)
    except IntegrityError:
        return {}
    return attempts


def attempt_set_deadline(*, attempt_id, deadline: datetime, now: datetime) -> Attempt:
    """Move an open attempt's deadline (an instructor's extension or an early end); AttemptClosed if finished."""
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
        if not attempt.is_open:
            raise AttemptClosed("This attempt is already finished.")
        attempt.deadline = deadline
        attempt.save(update_fields=["deadline"])
        return attempt


def finish_if_overdue(*, attempt: Attempt, now: datetime) -> Attempt:
    """Finish an open attempt whose deadline and grace have passed, as of its deadline."""
    if attempt.is_open and attempt.deadline and now > attempt.deadline + answer_grace():
        return attempt_finish(attempt_id=attempt.pk, now=now, reason=Attempt.FinishReason.TIME_UP)
    return attempt


@contextmanager
def _finishing_if_overdue(attempt_id, now: datetime):
    """On a refused write, finish the attempt if its time is up (after the refused write's rollback)."""
    try:
        yield
    except AttemptClosed:
        finish_if_overdue(attempt=Attempt.objects.get(pk=attempt_id), now=now)
        raise


def _refuse_unless_open(attempt: Attempt, now: datetime) -> None:
    if not attempt.is_open:
        raise AttemptClosed("This attempt is finished, so the answer was not saved.")
    if attempt.deadline and now > attempt.deadline + answer_grace():
        raise AttemptClosed("Time is up: the answer arrived after the deadline and was not saved.")


def _lock_open_attempt(attempt_id, now) -> Attempt:
    """Lock the attempt row for this transaction and refuse if it no longer takes answers."""
    attempt = Attempt.objects.select_for_update().only("id", "state", "deadline", "mode").get(pk=attempt_id)
    _refuse_unless_open(attempt, now)
    return attempt


# What a save or a flag reads and answers with (the status line, the palette cell, the timer of a group attempt).
SAVED_SLOT_FIELDS = (
    "id",
    "attempt_id",
    "position",
    "question_version_id",
    "choice_order",
    "selected_choice_ids",
    "answer_given_at",
    "answered_at",
    "flagged",
    "confirmed_at",
    "is_correct",
    "question_version__kind",
    "attempt__id",
    "attempt__user_id",
    "attempt__state",
    "attempt__deadline",
    "attempt__mode",
    "attempt__context",
    "attempt__question_count",
)


def _lock_open_slot(*, attempt_id, position: int, owner, now: datetime) -> AttemptSlot:
    """One slot with its attempt, the attempt's row locked for this transaction; refused if it takes no answers.

    One query where there were three (the owner's attempt, its lock, the slot): an autosave is the request a
    sitting sends most, and its round trips were most of its cost. The lock is the one attempt_finish takes, so
    a save either lands before the grading reads the slots or finds the attempt finished. `owner`, when given,
    must own the attempt: anyone else's is not found (AttemptSlot.DoesNotExist), as is a position it lacks.
    """
    slots = AttemptSlot.objects.select_related("attempt", "question_version").select_for_update(of=("attempt",))
    if owner is not None:
        slots = slots.filter(attempt__user=owner)
    slot = slots.only(*SAVED_SLOT_FIELDS).get(attempt_id=attempt_id, position=position)
    _refuse_unless_open(slot.attempt, now)
    return slot


@dataclass
class SaveResult:
    slot: AttemptSlot  # its .attempt is the attempt's row as locked (state, deadline, mode, context, count)
    saved: bool  # False when a newer answer had already been saved (a stale request): nothing changed


def attempt_save_answer(
    *,
    attempt_id,
    position: int,
    choice_ids: list[int],
    now: datetime,
    given_at: datetime | None = None,
    owner=None,
) -> SaveResult:
    """Save the learner's choice(s) for one question, unless an answer given later is already saved.

    `given_at` is when the learner gave this answer, as the server estimated it (save_protocol.py); it defaults
    to `now`. Raises AttemptClosed after the deadline plus grace (the attempt is then finished as of its deadline)
    and AnswerRejected for choices that are not this question's; either way nothing changes. With `owner`, an
    attempt that is not theirs is not found (AttemptSlot.DoesNotExist).
    """
    given_at = min(given_at or now, now)
    with _finishing_if_overdue(attempt_id, now), transaction.atomic():
        slot = _lock_open_slot(attempt_id=attempt_id, position=position, owner=owner, now=now)
        if slot.is_confirmed:
            raise AnswerRejected("You have already checked this answer; it can no longer change.")
        try:
            chosen = [int(c) for c in choice_ids]
        except (TypeError, ValueError):
            raise AnswerRejected("That choice does not belong to this question.") from None
        if not set(chosen) <= set(slot.choice_order) or len(set(chosen)) != len(chosen):
            raise AnswerRejected("That choice does not belong to this question.")
        if len(chosen) > 1 and not slot.question_version.is_multiple:
            raise AnswerRejected("This question takes one answer.")
        chosen = [c for c in slot.choice_order if c in chosen]  # keep the displayed order
        # Ties go to the later arrival: within one page requests are queued in click order (hx-sync). The
        # conditions are the UPDATE's own, so they hold against the row as it is now: a write that held the lock
        # while this save waited for it may have changed the slot after the read above.
        not_newer = Q(answer_given_at__isnull=True) | Q(answer_given_at__lte=given_at)
        updated = AttemptSlot.objects.filter(not_newer, pk=slot.pk, confirmed_at__isnull=True).update(
            selected_choice_ids=chosen, answer_given_at=given_at, answered_at=now
        )
        if updated:
            slot.selected_choice_ids, slot.answer_given_at, slot.answered_at = chosen, given_at, now
        else:
            slot.refresh_from_db(
                fields=["selected_choice_ids", "answer_given_at", "answered_at", "flagged", "confirmed_at"]
            )
            if slot.is_confirmed:
                raise AnswerRejected("You have already checked this answer; it can no longer change.")
        return SaveResult(slot=slot, saved=bool(updated))


def attempt_set_flag(*, attempt_id, position: int, flagged: bool, now: datetime, owner=None) -> AttemptSlot:
    """Mark or unmark a question for review (the slot, with its attempt as attempt_save_answer gives it)."""
    with _finishing_if_overdue(attempt_id, now), transaction.atomic():
        slot = _lock_open_slot(attempt_id=attempt_id, position=position, owner=owner, now=now)
        # Decided by the UPDATE against the row as it is now, not by the read (see attempt_save_answer).
        AttemptSlot.objects.filter(pk=slot.pk).exclude(flagged=flagged).update(flagged=flagged)
        slot.flagged = flagged
        return slot


def attempt_confirm_answer(*, attempt: Attempt, position: int, now: datetime) -> AttemptSlot:
    """Practice mode: lock the answer to one question and grade it, so its explanation can be shown."""
    with _finishing_if_overdue(attempt.pk, now), transaction.atomic():
        locked = _lock_open_attempt(attempt.pk, now)
        if not locked.is_practice:
            raise AnswerRejected("Answers are checked at the end of a timed exam.")
        slot = locked.slots.select_related("question_version").get(position=position)
        if not slot.is_answered:
            raise AnswerRejected("Choose an answer before checking it.")
        if not slot.is_confirmed:
            slot.confirmed_at = now
            slot.is_correct = is_response_correct(
                selected_ids=slot.selected_choice_ids, correct_ids=slot.question_version.correct_choice_ids()
            )
            slot.save(update_fields=["confirmed_at", "is_correct"])
        return slot


# A question page left open longer than this (a break, a closed laptop) counts as this long, not as hours.
MAX_SECONDS_PER_VISIT = 15 * 60


def attempt_set_position(*, attempt: Attempt, position: int, now: datetime) -> None:
    """Remember the question the learner is on, and add the time spent on the one they left to its slot.

    A reload or another device resumes at the remembered question. Time per question feeds the item analysis
    (median time) and the learner's pace report.
    """
    entered = attempt.position_entered_at
    if attempt.current_position == position and entered is not None:
        return
    if entered is not None:
        seconds = min(max(0, int((now - entered).total_seconds())), MAX_SECONDS_PER_VISIT)
        AttemptSlot.objects.filter(attempt=attempt, position=attempt.current_position).update(
            seconds_spent=F("seconds_spent") + seconds
        )
    Attempt.objects.filter(pk=attempt.pk).update(current_position=position, position_entered_at=now)
    attempt.current_position, attempt.position_entered_at = position, now


def attempt_finish(*, attempt_id, now: datetime, reason: str = Attempt.FinishReason.SUBMITTED) -> Attempt:
    """Grade and finish an attempt exactly once; a second or concurrent call returns the finished attempt.

    Also marks each slot that is the learner's first finished exposure to its question (AttemptSlot.is_first_exposure),
    the response item analysis counts: finishing order decides, and a later finish never changes an earlier flag.
    """
    with transaction.atomic():
        attempt = Attempt.objects.select_for_update().get(pk=attempt_id)
        attempt.finished_now = False  # whether this call finished it (close_overdue_attempts counts those)
        if not AttemptState.can_change(attempt.state, AttemptState.FINISHED):
            return attempt
        if attempt.deadline and now >= attempt.deadline:
            now, reason = attempt.deadline, Attempt.FinishReason.TIME_UP
        # The four columns grading reads, as plain rows: a submit spike grades hundreds of attempts in seconds,
        # and 75 model instances each (their JSON columns decoded) were a good part of a submit's own time.
        slots = list(
            attempt.slots.order_by("position").values_list(
                "pk", "question_version_id", "question_version__question_id", "selected_choice_ids"
            )
        )
        correct_by_version: dict[int, set[int]] = {}
        for version_id, choice_id in (
            Choice.objects.filter(version_id__in={version_id for _, version_id, _, _ in slots}, is_correct=True)
            .order_by()
            .values_list("version_id", "id")
        ):
            correct_by_version.setdefault(version_id, set()).add(choice_id)
        seen = _questions_seen(user_id=attempt.user_id, question_ids={question_id for _, _, question_id, _ in slots})
        # At most four UPDATEs, one per (correct, first) pair, instead of bulk_update's one statement with a
        # 150-branch CASE: in a submit spike PostgreSQL planned that CASE for every one of the 500 attempts.
        by_outcome: dict[tuple[bool, bool], list[int]] = {}
        for slot_id, version_id, question_id, selected in slots:
            is_correct = is_response_correct(selected_ids=selected, correct_ids=correct_by_version.get(version_id))
            is_first_exposure = question_id not in seen
            seen.add(question_id)  # two versions of one question in one attempt: the first by position
            by_outcome.setdefault((is_correct, is_first_exposure), []).append(slot_id)
        for (is_correct, is_first_exposure), slot_ids in by_outcome.items():
            AttemptSlot.objects.filter(pk__in=slot_ids).update(
                is_correct=is_correct, is_first_exposure=is_first_exposure
            )
        attempt.state = AttemptState.FINISHED
        attempt.finished_at = now
        attempt.finish_reason = reason
        attempt.correct_count = sum(len(ids) for (is_correct, _), ids in by_outcome.items() if is_correct)
        attempt.question_count = len(slots)
        attempt.save(update_fields=["state", "finished_at", "finish_reason", "correct_count", "question_count"])
        transaction.on_commit(lambda: attempt_finished.send(sender=Attempt, attempt=attempt), robust=True)
        attempt.finished_now = True
        return attempt


def _questions_seen(*, user_id, question_ids) -> set[int]:
    """Which of `question_ids` the learner has already met in a finished attempt (one query, after a row lock).

    Locks the learner's row until the caller's transaction ends, so that two of their attempts finishing at the
    same moment take turns: the second sees the first's flags, and each question keeps one first exposure.
    """
    get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk").get()
    # By the learner's finished attempt ids, as in draw_versions: the plan cannot start from every slot of these
    # questions (everyone's), and a first finished exam asks nothing more.
    finished_ids = list(Attempt.objects.filter(user_id=user_id).finished().order_by().values_list("pk", flat=True))
    if not finished_ids:
        return set()
    return set(
        AttemptSlot.objects.filter(
            attempt_id__in=finished_ids, is_first_exposure=True, question_version__question_id__in=question_ids
        )
        .order_by()
        .values_list("question_version__question_id", flat=True)
    )


def close_overdue_attempts(*, now: datetime) -> int:
    """Finish every open attempt past its deadline and grace; returns how many this call finished.

    One transaction per attempt: two runs at once take turns on each attempt (the second finds it finished), and
    a run that dies halfway leaves every attempt either finished or untouched, for the next run to finish.
    """
    closed = 0
    for attempt_id in Attempt.objects.overdue(now, answer_grace()).values_list("pk", flat=True):
        attempt = attempt_finish(attempt_id=attempt_id, now=now, reason=Attempt.FinishReason.TIME_UP)
        closed += attempt.finished_now
    return closed
