"""Demo data for `make run`: the demo accounts, a learner with finished attempts, an instructor with a demo bank."""

import random
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from quizapp.accounts.models import User
from quizapp.bank import editing
from quizapp.bank.models import Bank, Question
from quizapp.exams import services
from quizapp.exams.models import Attempt, ExamBlueprint
from quizapp.groups import services as group_services
from quizapp.groups.models import StudyGroup

DEMO_BANK_TITLE = "Demo bank: deployment basics"
DEMO_GROUP_NAME = "Demo study group"


class Command(BaseCommand):
    help = "Create demo data that shows every feature (development only: refuses when DEBUG is off). Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data exists only in development (DEBUG=True); this is not a dev set-up.")
        call_command("create_demo_accounts", stdout=self.stdout)
        learner = User.objects.get(username="learner")
        instructor = User.objects.get(username="instructor")
        shipped = Bank.objects.filter(slug="dop-c02").first()
        if shipped is None:
            raise CommandError("Load the shipped bank first: manage.py load_bank")
        self.demo_bank(instructor, shipped)
        self.finished_attempts(learner, shipped)
        self.study_group(instructor, learner, shipped)
        self.stdout.write(self.style.SUCCESS("Demo data ready: log in as instructor to see the Studio."))

    def demo_bank(self, instructor, shipped):
        """A small published bank owned by the instructor: one question per task statement, and a quiz."""
        bank = Bank.objects.filter(owner=instructor, title=DEMO_BANK_TITLE).first()
        if bank is not None:
            return bank
        bank = editing.bank_create(owner=instructor, title=DEMO_BANK_TITLE, description="A few questions to edit.")
        bank.notes_source = shipped.notes_source
        bank.save(update_fields=["notes_source"])
        for note in shipped.notes.all():
            bank.notes.create(key=note.key, heading=note.heading, text=note.text, position=note.position)
        domains = {d.number: d for d in bank.domains.all()}
        tasks = {t.code: t for d in domains.values() for t in d.tasks.all()}
        topics = {t.slug: t for t in bank.topics.all()}
        notes = {n.key: n for n in bank.notes.all()}
        picked = {}
        for question in (
            Question.objects.published()
            .filter(bank=shipped)
            .select_related("current_version__task", "current_version__topic", "current_version__domain")
        ):
            picked.setdefault(question.current_version.task.code, question)
        for code, question in sorted(picked.items()):
            version = question.current_version
            data = editing.QuestionData(
                key=f"demo-{question.key}",
                domain=domains[version.domain.number],
                task=tasks[code],
                topic=topics[version.topic.slug],
                notes=[notes[n.key] for n in version.notes.all()],
                kind=version.kind,
                stem=version.stem,
                options=[
                    {"text": c.text, "correct": c.is_correct, "rationale": c.rationale} for c in version.choices.all()
                ],
                explanation=version.explanation,
                references=list(version.references),
            )
            saved = editing.question_save(bank=bank, data=data)
            editing.question_set_status(question=saved, status=Question.Status.PUBLISHED)
        services.blueprint_save(
            bank=bank,
            blueprint=ExamBlueprint(
                title="Demo quiz",
                description="Six questions, one per domain, untimed: check each answer as you go.",
                mode=ExamBlueprint.Mode.PRACTICE,
                question_count=6,
                pass_mark_percent=75,
                domain_selection=ExamBlueprint.DomainSelection.WEIGHTED,
                domain_weights={str(n): 1 for n in domains},
            ),
            slug="demo-quiz",
        )
        editing.bank_update(bank=bank, title=bank.title, description=bank.description, status=Bank.Status.PUBLISHED)
        return bank

    def finished_attempts(self, learner, shipped):
        """Three quick timed sets over the past weeks, answered with a growing share right, for the dashboard."""
        if Attempt.objects.filter(user=learner).exists():
            return
        blueprint = shipped.blueprints.get(slug="quick-timed-set")
        rng = random.Random(42)
        now = timezone.now()
        for weeks_ago, skill in [(3, 0.5), (2, 0.62), (1, 0.74)]:
            started = now - timedelta(weeks=weeks_ago)
            attempt = services.attempt_start(user=learner, blueprint=blueprint, now=started, rng=rng)
            slots = attempt.slots.select_related("question_version").prefetch_related("question_version__choices")
            for minute, slot in enumerate(slots, start=1):
                choices = list(slot.question_version.choices.all())
                right = [c.id for c in choices if c.is_correct]
                wrong = [c.id for c in choices if not c.is_correct]
                pick = right if rng.random() < skill else [*right[:-1], rng.choice(wrong)]
                services.attempt_save_answer(
                    attempt_id=attempt.pk,
                    position=slot.position,
                    choice_ids=pick,
                    now=started + timedelta(minutes=2 * minute),
                )
            services.attempt_finish(attempt_id=attempt.pk, now=started + timedelta(minutes=42))

    def study_group(self, instructor, learner, shipped):
        """A group the learner is in: last week's assignment, done, and an open one due in a week."""
        if StudyGroup.objects.filter(owner=instructor, name=DEMO_GROUP_NAME).exists():
            return
        group = group_services.group_create(
            owner=instructor, name=DEMO_GROUP_NAME, description="Meets on Tuesdays; a timed set each week."
        )
        group_services.group_join(user=learner, group=group)
        blueprint = shipped.blueprints.get(slug="quick-timed-set")
        now = timezone.now()
        last_week = group_services.assignment_create(
            group=group,
            blueprint=blueprint,
            opens_at=now - timedelta(days=9),
            closes_at=now - timedelta(days=2),
            attempt_limit=2,
            review_policy="after_close",
        )
        started = now - timedelta(days=5)
        attempt = group_services.assignment_attempt_start(assignment=last_week, user=learner, now=started)
        rng = random.Random(7)
        for slot in attempt.slots.select_related("question_version").prefetch_related("question_version__choices"):
            choices = list(slot.question_version.choices.all())
            right = [c.id for c in choices if c.is_correct]
            wrong = [c.id for c in choices if not c.is_correct]
            pick = right if rng.random() < 0.7 else [*right[:-1], rng.choice(wrong)]
            services.attempt_save_answer(attempt_id=attempt.pk, position=slot.position, choice_ids=pick, now=started)
        services.attempt_finish(attempt_id=attempt.pk, now=started + timedelta(minutes=40))
        group_services.assignment_create(
            group=group,
            blueprint=blueprint,
            opens_at=now - timedelta(hours=1),
            closes_at=now + timedelta(days=7),
            attempt_limit=2,
            review_policy="after_submit",
        )
