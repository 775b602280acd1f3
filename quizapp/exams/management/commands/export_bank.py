from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizapp.bank.models import Bank
from quizapp.exams.services import bank_folder_export


class Command(BaseCommand):
    help = "Export a bank in the file format: a folder of YAML files, or one JSON document."

    def add_arguments(self, parser):
        parser.add_argument("bank", help="the bank's slug, e.g. dop-c02")
        parser.add_argument("--format", choices=["yaml", "json"], default="yaml")
        parser.add_argument("--output", help="folder to write into (default: print to standard output)")

    def handle(self, *args, bank, format, output, **options):
        try:
            found = Bank.objects.get(slug=bank)
        except Bank.DoesNotExist:
            raise CommandError(f"No bank with slug {bank!r}.") from None
        files = bank_folder_export(bank=found, fmt=format)
        if not output:
            for name, text in files.items():
                if len(files) > 1:
                    self.stdout.write(f"# --- {name}")
                self.stdout.write(text, ending="")
            return
        root = Path(output)
        for name, text in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.stderr.write(self.style.SUCCESS(f"Wrote {len(files)} file(s) to {root}"))
