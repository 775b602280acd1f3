from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizapp.bank import formats
from quizapp.bank.importing import bank_questions_for_export
from quizapp.bank.models import Bank
from quizapp.exams.services import bank_folder_export

FOREIGN_FORMATS = ("gift", "aiken", "moodle-xml", "csv")
EXTENSIONS = {"gift": "gift.txt", "aiken": "aiken.txt", "moodle-xml": "moodle.xml", "csv": "csv"}


class Command(BaseCommand):
    help = (
        "Export a bank: the native folder of YAML files, one JSON document, or one GIFT, Aiken, Moodle XML or CSV "
        "file (questions a format cannot express are skipped and counted)."
    )

    def add_arguments(self, parser):
        parser.add_argument("bank", help="the bank's slug, e.g. dop-c02")
        parser.add_argument("--format", choices=["yaml", "json", *FOREIGN_FORMATS], default="yaml")
        parser.add_argument("--output", help="folder to write into (default: print to standard output)")

    def handle(self, *args, bank, format, output, **options):
        try:
            found = Bank.objects.get(slug=bank)
        except Bank.DoesNotExist:
            raise CommandError(f"No bank with slug {bank!r}.") from None
        if format in FOREIGN_FORMATS:
            exported = formats.export(bank_questions_for_export(found), format)
            if exported.skipped:
                self.stderr.write(f"Skipped {len(exported.skipped)} question(s) that {format} cannot express.")
            files = {f"{found.slug}.{EXTENSIONS[format]}": exported.text}
        else:
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
