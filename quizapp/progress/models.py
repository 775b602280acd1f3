"""Review cards: each question a learner got wrong, scheduled for spaced review with FSRS (review.py)."""

from django.conf import settings
from django.db import models

from quizapp.bank.models import Question


class ReviewCardQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def due(self, by):
        """Cards due at or before `by` (the end of the learner's day, for "due today")."""
        return self.filter(due__lte=by)


class ReviewCard(models.Model):
    """One question in a learner's review pile, with its FSRS memory state (stored in UTC)."""

    class State(models.IntegerChoices):
        # The values are fsrs.State's, so a card converts both ways without a table.
        LEARNING = 1, "Learning"
        REVIEW = 2, "Review"
        RELEARNING = 3, "Relearning"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="review_cards")
    state = models.PositiveSmallIntegerField(choices=State.choices, default=State.LEARNING)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due = models.DateTimeField()
    last_review = models.DateTimeField(null=True, blank=True)
    reviews = models.PositiveIntegerField(default=0)
    lapses = models.PositiveIntegerField(default=0, help_text="Times answered wrong.")
    created_at = models.DateTimeField()

    objects = ReviewCardQuerySet.as_manager()

    class Meta:
        ordering = ["due"]
        indexes = [models.Index(fields=["user", "due"])]
        constraints = [models.UniqueConstraint(fields=["user", "question"], name="one_review_card_per_question")]

    def __str__(self):
        return f"{self.user} – {self.question} (due {self.due:%Y-%m-%d})"


class ReviewLog(models.Model):
    """One answer that moved a card; one per attempt slot, so replaying an attempt changes nothing."""

    class Rating(models.IntegerChoices):
        # fsrs.Rating's values.
        AGAIN = 1, "Again"
        HARD = 2, "Hard"
        GOOD = 3, "Good"
        EASY = 4, "Easy"

    card = models.ForeignKey(ReviewCard, on_delete=models.CASCADE, related_name="logs")
    slot = models.OneToOneField("exams.AttemptSlot", on_delete=models.CASCADE, related_name="review_log")
    rating = models.PositiveSmallIntegerField(choices=Rating.choices)
    reviewed_at = models.DateTimeField()
    due_after = models.DateTimeField(help_text="When the card was due next after this answer.")

    class Meta:
        ordering = ["reviewed_at"]

    def __str__(self):
        return f"{self.card_id}: {self.get_rating_display()} at {self.reviewed_at:%Y-%m-%d %H:%M}"


class PendingReview(models.Model):
    """A finished attempt whose answers have not yet moved the learner's review cards.

    A submit writes only this row; the cards are scheduled when the learner next opens a page that shows them
    (review.review_cards_catch_up), or by `manage.py sync_review_cards`. Every learner of a group sitting submits
    in the same few seconds, and the cards were half of a submit's cost; they are due a day later at the earliest.
    """

    attempt = models.OneToOneField("exams.Attempt", on_delete=models.CASCADE, primary_key=True, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    finished_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "finished_at"])]

    def __str__(self):
        return f"{self.attempt_id} (finished {self.finished_at:%Y-%m-%d %H:%M})"
