"""Turn finished attempts into review cards: once after upgrading, after a crash lost a signal, or to schedule every
attempt still waiting for its learner's next page (PendingReview) at once.

Each answer moves a card at most once (ReviewLog is unique per slot), so running it again changes nothing.
"""

from django.core.management.base import BaseCommand

from quizapp.exams.models import Attempt
from quizapp.progress.review import review_cards_update


class Command(BaseCommand):
    help = "Create and schedule review cards from every finished attempt not yet counted (idempotent)."

    def handle(self, *args, **options):
        moved = 0
        attempts = Attempt.objects.finished().select_related("user").order_by("finished_at", "pk")
        for attempt in attempts.iterator(chunk_size=500):
            moved += review_cards_update(attempt=attempt)
        self.stdout.write(f"{moved} answer(s) scheduled.")
