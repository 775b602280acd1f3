"""Exam definitions (blueprints) and the attempt engine (attempts and their slots).

A blueprint is data: how many questions, how long, the pass mark, how domains are drawn and the mode. An attempt
freezes what it drew: each slot points at a QuestionVersion and keeps its own option order, so nothing the bank
does later changes the attempt.
"""

import math
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce

from quizapp.bank.models import Bank, Domain, QuestionVersion, Topic

# The hidden practice exam that reviews and drills drawn above the engine run on (exams/practice_sets.py).
PRACTICE_SLUG = "custom-practice"


class ExamBlueprintQuerySet(models.QuerySet):
    def authored(self):
        """The exams an instructor defined: not the hidden practice set that reviews and drills run on."""
        return self.exclude(slug=PRACTICE_SLUG)

    def for_learners(self):
        """Active exams of published banks: what the catalogue offers."""
        return self.filter(is_active=True, bank__status=Bank.Status.PUBLISHED)


class ExamBlueprint(models.Model):
    class Mode(models.TextChoices):
        TIMED = "timed", "Timed exam"
        PRACTICE = "practice", "Practice"

    class DomainSelection(models.TextChoices):
        WEIGHTED = "weighted", "All domains, by weight"
        CHOSEN = "chosen", "One domain the learner chooses"

    bank = models.ForeignKey(Bank, on_delete=models.CASCADE, related_name="blueprints")
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    mode = models.CharField(max_length=20, choices=Mode.choices)
    question_count = models.PositiveSmallIntegerField()
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: untimed.")
    pass_mark_percent = models.PositiveSmallIntegerField(default=75)
    domain_selection = models.CharField(max_length=20, choices=DomainSelection.choices)
    domain_weights = models.JSONField(
        default=dict, blank=True, help_text="Domain number to weight; empty: the bank's own domain weights."
    )
    topic = models.ForeignKey(
        Topic, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Draw only this topic."
    )
    shuffle_options = models.BooleanField(default=True, help_text="Each attempt shows the options in its own order.")
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    objects = ExamBlueprintQuerySet.as_manager()

    class Meta:
        ordering = ["bank", "position"]
        constraints = [models.UniqueConstraint(fields=["bank", "slug"], name="unique_blueprint_slug")]

    def __str__(self):
        return self.title

    @property
    def is_timed(self):
        return self.mode == self.Mode.TIMED and bool(self.duration_minutes)

    def weights(self):
        """Weights by domain number for drawing questions: the blueprint's own, or else the bank's."""
        if self.domain_weights:
            return {int(number): int(weight) for number, weight in self.domain_weights.items()}
        return dict(self.bank.domains.order_by().values_list("number", "weight"))

    @property
    def asks_for_domain(self):
        return self.domain_selection == self.DomainSelection.CHOSEN


class AttemptState(models.TextChoices):
    """An attempt is in progress until it is finished, by the learner or by its deadline (Moodle's states)."""

    IN_PROGRESS = "in_progress", "In progress"
    FINISHED = "finished", "Finished"

    @classmethod
    def can_change(cls, current, to):
        """Whether an attempt may go from state `current` to `to`: a finished attempt never reopens."""
        return to in {cls.IN_PROGRESS: {cls.FINISHED}, cls.FINISHED: set()}[current]


class AttemptQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def open(self):
        return self.filter(state=AttemptState.IN_PROGRESS)

    def finished(self):
        return self.filter(state=AttemptState.FINISHED)

    def overdue(self, now, grace):
        """Open attempts whose deadline plus the grace period has passed."""
        return self.open().filter(deadline__lt=now - grace)


class Attempt(models.Model):
    class FinishReason(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        TIME_UP = "time_up", "Time ran out"
        CLOSED = "closed", "Closed by the instructor"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts")
    blueprint = models.ForeignKey(ExamBlueprint, on_delete=models.PROTECT, related_name="attempts")
    chosen_domain = models.ForeignKey(Domain, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Copied from the blueprint at start, so editing the blueprint never changes an attempt under way.
    mode = models.CharField(max_length=20, choices=ExamBlueprint.Mode.choices)
    pass_mark_percent = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=20, choices=AttemptState.choices, default=AttemptState.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True, help_text="Empty: untimed.")
    finished_at = models.DateTimeField(null=True, blank=True)
    finish_reason = models.CharField(max_length=20, choices=FinishReason.choices, blank=True)
    current_position = models.PositiveSmallIntegerField(default=1)
    position_entered_at = models.DateTimeField(null=True, blank=True, help_text="When the current question was shown.")
    question_count = models.PositiveSmallIntegerField(default=0)
    # Who started it: empty for the learner's own attempt, or a key the layer above owns ("assignment:12"), so
    # that an assigned attempt never resumes as, or blocks, the learner's own attempt at the same exam.
    context = models.CharField(max_length=60, blank=True, default="", db_index=True)
    review_opens_at = models.DateTimeField(
        null=True, blank=True, help_text="Answers and explanations are hidden until then (an assignment's close)."
    )
    correct_count = models.PositiveSmallIntegerField(null=True, blank=True)

    objects = AttemptQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["user", "state"]),
            models.Index(fields=["state", "deadline"]),
        ]
        constraints = [
            # At most one open attempt per learner, exam and chosen domain, however many starts race: the loser
            # of a race resumes the winner's attempt. Coalesce because NULL never equals NULL in a unique index.
            models.UniqueConstraint(
                "user",
                "blueprint",
                Coalesce("chosen_domain", Value(0)),
                "context",
                condition=Q(state="in_progress"),
                name="one_open_attempt_per_exam",
            ),
        ]

    def __str__(self):
        return f"{self.user} – {self.blueprint} ({self.started_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("exams:attempt", args=[self.pk])

    @property
    def is_open(self):
        return self.state == AttemptState.IN_PROGRESS

    @property
    def is_practice(self):
        return self.mode == ExamBlueprint.Mode.PRACTICE

    @property
    def score_percent(self):
        if self.correct_count is None or not self.question_count:
            return None
        return round(100 * self.correct_count / self.question_count, 1)

    @property
    def passed(self):
        percent = self.score_percent
        return percent is not None and percent >= self.pass_mark_percent

    def review_is_open(self, now) -> bool:
        """Whether the finished attempt may show its answers and explanations yet."""
        return not self.is_open and (self.review_opens_at is None or now >= self.review_opens_at)

    @property
    def time_used(self):
        end = self.finished_at
        return end - self.started_at if end else None

    def seconds_left(self, now):
        """Whole seconds to the deadline, rounded up: a countdown that reaches zero is never early."""
        if self.deadline is None:
            return None
        return max(0, math.ceil((self.deadline - now).total_seconds()))


class AttemptSlot(models.Model):
    """One question of an attempt: the frozen version, its shuffled option order and the learner's response."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="slots")
    position = models.PositiveSmallIntegerField()
    question_version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="slots")
    choice_order = models.JSONField(help_text="Choice ids in the order this attempt shows them.")
    selected_choice_ids = models.JSONField(default=list, blank=True)
    # When the stored answer was given, as the server estimated it (save_protocol.py): an older save is refused.
    answer_given_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    seconds_spent = models.PositiveIntegerField(default=0, help_text="Time on this question, summed over visits.")
    confirmed_at = models.DateTimeField(null=True, blank=True, help_text="Practice mode: answer checked, locked.")
    is_correct = models.BooleanField(null=True, blank=True, help_text="Set when graded.")
    # Set when the attempt finishes: whether this is the learner's first finished slot of any version of the
    # question, the one response item analysis counts (attempt_finish decides, in finishing order).
    is_first_exposure = models.BooleanField(default=False)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [models.UniqueConstraint(fields=["attempt", "position"], name="unique_slot_position")]
        indexes = [
            # Item analysis reads the first exposures of a bank's versions and only these columns: from this
            # index alone, in index order, not from slot rows scattered over the table. Partial, so its rows are
            # written once, when an attempt finishes, never by an autosave. SQLite counts an index as covering
            # only when it holds every column the query names, the filtered flag too.
            models.Index(
                fields=[
                    "question_version",
                    "is_first_exposure",
                    "attempt",
                    "is_correct",
                    "seconds_spent",
                    "selected_choice_ids",
                ],
                condition=Q(is_first_exposure=True),
                name="slot_first_exposure",
            ),
        ]

    def __str__(self):
        return f"{self.attempt_id} #{self.position}"

    @property
    def is_answered(self):
        return bool(self.selected_choice_ids)

    @property
    def is_confirmed(self):
        return self.confirmed_at is not None
