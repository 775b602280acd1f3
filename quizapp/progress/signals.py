"""What progress does when the exam engine says an attempt finished: note it for the review cards (review.py)."""

from django.dispatch import receiver

from quizapp.exams.signals import attempt_finished

from .models import PendingReview


@receiver(attempt_finished, dispatch_uid="progress-review-cards")
def schedule_reviews(sender, attempt, **kwargs):
    # One INSERT in the submit; the cards move when the learner next looks at them (review_cards_catch_up).
    PendingReview.objects.bulk_create(
        [PendingReview(attempt_id=attempt.pk, user_id=attempt.user_id, finished_at=attempt.finished_at)],
        ignore_conflicts=True,  # a replayed signal
    )
