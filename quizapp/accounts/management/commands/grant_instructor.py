from django.core.management.base import BaseCommand, CommandError

from quizapp.accounts.models import User


class Command(BaseCommand):
    help = "Give an account the instructor role (banks and study groups of their own). --revoke takes it back."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="make the account a learner again")

    def handle(self, *args, username, revoke, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account is called {username!r}.")
        user.role = User.Role.LEARNER if revoke else User.Role.INSTRUCTOR
        user.save(update_fields=["role"])
        self.stdout.write(self.style.SUCCESS(f"{user.username} is now {user.get_role_display().lower()}."))
