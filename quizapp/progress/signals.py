"""What progress does when the exam engine says an attempt finished."""

from django.dispatch import receiver

from quizapp.exams.signals import attempt_finished

from . import review


@receiver(attempt_finished, dispatch_uid="progress-review-cards")
def schedule_reviews(sender, attempt, **kwargs):
    review.review_cards_update(attempt=attempt)
