from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from quizapp.accounts.models import User
from quizapp.accounts.services import user_create

DEMO_ACCOUNTS = [
    ("learner", "learner@example.com", "learner-demo-pass", User.Role.LEARNER),
    ("instructor", "instructor@example.com", "instructor-demo-pass", User.Role.INSTRUCTOR),
]


class Command(BaseCommand):
    help = "Create the demo learner and instructor (development only: refuses when DEBUG is off)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo accounts exist only in development (DEBUG=True); this is not a dev set-up.")
        for username, email, password, role in DEMO_ACCOUNTS:
            if not User.objects.filter(username=username).exists():
                user_create(username=username, email=email, password=password, role=role)
        self.stdout.write(self.style.SUCCESS("Demo accounts (development only):"))
        for username, _, password, role in DEMO_ACCOUNTS:
            self.stdout.write(f"  {role:<10}  username: {username:<11} password: {password}")
