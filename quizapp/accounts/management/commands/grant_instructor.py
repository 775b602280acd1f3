from django.core.management.base import BaseCommand, CommandError

from quizapp import audit
from quizapp.accounts.models import User
from quizapp.accounts.services import user_set_role


class Command(BaseCommand):
    help = "Give an account the instructor role (banks and study groups of their own). --revoke takes it back."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="make the account a learner again")

    def handle(self, *args, username, revoke, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account is called {username!r}.")
        with audit.acting_as_command():
            user_set_role(user=user, role=User.Role.LEARNER if revoke else User.Role.INSTRUCTOR)
        self.stdout.write(self.style.SUCCESS(f"{user.username} is now {user.get_role_display().lower()}."))
