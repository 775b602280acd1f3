import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from quizapp.bank import formats

SHOWN_WARNINGS = 20


def task_code(value: str) -> str:
    if not re.match(r"^\d+\.\d+$", value):
        raise ValueError(value)
    return value


class Command(BaseCommand):
    help = (
        "Convert questions between formats on disk (native, gift, aiken, moodle-xml, csv); touches no database. "
        "All-or-nothing: on any error nothing is written and every error is listed with file and line."
    )

    def add_arguments(self, parser):
        parser.add_argument("input", help="the file to read (for native: a bank folder or a questions YAML file)")
        parser.add_argument("--from", dest="source_format", required=True, choices=formats.FORMAT_NAMES)
        parser.add_argument("--to", dest="target_format", required=True, choices=formats.FORMAT_NAMES)
        parser.add_argument("--output", required=True, help="the file to write (native: a questions YAML file)")
        parser.add_argument("--domain", type=int, help="domain number for questions whose file gives none")
        parser.add_argument("--task", type=task_code, help="task statement (e.g. 1.2) for questions without one")
        parser.add_argument("--topic", help="topic slug for questions without one")

    def handle(self, *args, input, source_format, target_format, output, domain, task, topic, verbosity, **options):
        defaults = formats.Defaults(domain=domain, task=task, topic=topic)
        try:
            result = formats.read_file(input, source_format, defaults=defaults)
        except formats.FormatError as error:
            raise CommandError(self._refusal(error.problems)) from error
        if target_format == "native":
            result.errors += formats.placement_problems(result.questions)

        self.stdout.write(f"Read {len(result.questions)} question(s) from {input} ({source_format}).")
        if result.skipped:
            self.stdout.write(f"Skipped {len(result.skipped)} question(s) the format reader does not import:")
            for problem in result.skipped:
                self.stdout.write(f"  {problem}")
        if result.warnings:
            shown = result.warnings if verbosity > 1 else result.warnings[:SHOWN_WARNINGS]
            self.stdout.write(f"{len(result.warnings)} warning(s):")
            for problem in shown:
                self.stdout.write(f"  {problem}")
            if len(shown) < len(result.warnings):
                self.stdout.write(f"  … and {len(result.warnings) - len(shown)} more (-v 2 lists them all)")
        if result.errors:
            raise CommandError(self._refusal(result.errors))

        exported = formats.export(result.questions, target_format)
        if exported.skipped:
            self.stdout.write(
                f"Skipped {len(exported.skipped)} question(s) that {target_format} cannot express "
                f"(of {len(result.questions)}):"
            )
            for problem in exported.skipped:
                self.stdout.write(f"  {problem}")
        target = Path(output)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(exported.text, encoding="utf-8", newline="")
        except OSError as error:
            raise CommandError(f"Cannot write {target}: {error.strerror or error}") from error
        self.stdout.write(self.style.SUCCESS(f"Wrote {exported.exported} question(s) to {target} ({target_format})."))

    def _refusal(self, problems) -> str:
        lines = [f"Nothing was written: {len(problems)} error(s)."]
        lines += [f"  {problem}" for problem in problems]
        return "\n".join(lines)
