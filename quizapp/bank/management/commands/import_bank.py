from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizapp import audit
from quizapp.bank import formats
from quizapp.bank.importing import ImportRefused, import_apply, import_preview, read_upload
from quizapp.bank.models import Bank


class Command(BaseCommand):
    help = (
        "Import questions into a bank from native YAML/JSON, GIFT, Aiken, Moodle XML or CSV. Prints the preview "
        "(created, updated with what changes, unchanged, skipped, errors with their lines); all-or-nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the file (for native: a questions YAML or JSON file)")
        parser.add_argument("--bank", required=True, help="the slug of the bank to import into")
        parser.add_argument("--format", required=True, choices=formats.FORMAT_NAMES)
        parser.add_argument("--dry-run", action="store_true", help="print the preview and change nothing")
        parser.add_argument("--draft", action="store_true", help="import as drafts instead of publishing")
        parser.add_argument("--domain", type=int, help="domain number for questions whose file gives none")
        parser.add_argument("--task", help="task statement (e.g. 1.2) for questions whose file gives none")
        parser.add_argument("--topic", help="topic slug for questions whose file gives none")

    def handle(self, *args, path, bank, format, dry_run, draft, domain, task, topic, **options):
        target = Bank.objects.filter(slug=bank).first()
        if target is None:
            raise CommandError(f"No bank with slug {bank!r}.")
        try:
            data = Path(path).read_bytes()
            result = read_upload(
                data, format, source=Path(path).name, defaults=formats.Defaults(domain=domain, task=task, topic=topic)
            )
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}") from error
        except formats.FormatError as error:
            raise CommandError(self.refusal(error.problems)) from error
        preview = import_preview(bank=target, result=result)
        self.print_preview(preview)
        if not preview.ok:
            raise CommandError(self.refusal(preview.errors))
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
            return
        try:
            with audit.acting_as_command():
                import_apply(bank=target, result=result, publish=not draft, file_name=Path(path).name)
        except ImportRefused as error:
            raise CommandError(self.refusal(error.preview.errors)) from error
        self.stdout.write(self.style.SUCCESS(f"Imported into {target.slug}: {preview.summary()}."))

    def print_preview(self, preview):
        self.stdout.write(preview.summary())
        for planned in preview.created:
            draft = f" (as a draft: {'; '.join(planned.draft_reasons)})" if planned.draft_reasons else ""
            self.stdout.write(f"  create line {planned.line}: {planned.key}{draft}")
        for planned in preview.updated:
            self.stdout.write(f"  update line {planned.line}: {planned.key} ({', '.join(planned.changes)} changed)")
        for problem in preview.skipped:
            self.stdout.write(f"  skip {problem}")
        for problem in preview.warnings[:20]:
            self.stdout.write(f"  warning {problem}")

    def refusal(self, problems):
        return "\n".join([f"Nothing was imported: {len(problems)} error(s).", *(f"  {p}" for p in problems)])
