from django.core.management.base import BaseCommand
from django.utils import timezone

from quizapp.exams.services import close_overdue_attempts


class Command(BaseCommand):
    help = "Finish every attempt past its deadline (plus grace), as of its deadline. Run it every minute."

    def handle(self, *args, **options):
        closed = close_overdue_attempts(now=timezone.now())
        self.stdout.write(f"Closed {closed} overdue attempt(s).")
