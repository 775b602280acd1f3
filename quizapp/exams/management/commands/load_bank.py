from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizapp import audit
from quizapp.bank.services import BankLoadError
from quizapp.exams.services import bank_folder_load

SHIPPED_BANK = Path(__file__).resolve().parents[3] / "bank" / "data" / "dop-c02"


class Command(BaseCommand):
    help = (
        "Load a bank folder (bank.yaml, notes.md, questions/*.yaml) and the exams it defines; all-or-nothing. "
        "Default: the shipped bank."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(SHIPPED_BANK), help="bank folder (default: shipped DOP-C02)")

    def handle(self, *args, path, **options):
        try:
            with audit.acting_as_command():
                report = bank_folder_load(path=path)
        except BankLoadError as error:
            raise CommandError(f"Nothing was loaded. {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Loaded {report}"))
