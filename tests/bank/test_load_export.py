import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone

from quizapp.bank.models import Bank, Question, QuestionVersion
from quizapp.bank.services import BankLoadError
from quizapp.exams import services as exam_services
from quizapp.exams.models import ExamBlueprint
from quizapp.exams.services import bank_folder_export as bank_export
from quizapp.exams.services import bank_folder_load as bank_load

SHIPPED = Path(__file__).resolve().parents[2] / "quizapp" / "bank" / "data" / "dop-c02"

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_bank_dir(tmp_path):
    """A copy of the shipped bank cut to a few questions per file, to edit freely."""
    target = tmp_path / "bank"
    shutil.copytree(SHIPPED, target)
    for path in (target / "questions").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        path.write_text(yaml.safe_dump({"questions": data["questions"][:3]}, sort_keys=False, allow_unicode=True))
    return target


def test_load_creates_questions_versions_notes_and_exams(small_bank_dir):
    report = bank_load(path=small_bank_dir)
    bank = Bank.objects.get(slug="dop-c02")
    assert len(report.created) == Question.objects.count() == 18
    assert bank.notes.count() == 92 and bank.domains.count() == 6
    assert set(bank.blueprints.values_list("slug", flat=True)) == {"full-mock", "domain-drill", "quick-timed-set"}
    full = bank.blueprints.get(slug="full-mock")
    assert (full.question_count, full.duration_minutes, full.pass_mark_percent) == (75, 180, 75)


def test_reloading_updates_in_place_and_versions_only_changed_questions(small_bank_dir, learner):
    bank_load(path=small_bank_dir)
    again = bank_load(path=small_bank_dir)
    assert again.unchanged == 18 and not again.created and not again.new_versions
    assert QuestionVersion.objects.count() == 18

    path = next((small_bank_dir / "questions").glob("d1-*.yaml"))
    data = yaml.safe_load(path.read_text())
    key = data["questions"][0]["key"]
    old = Question.objects.get(key=key).current_version
    blueprint = ExamBlueprint.objects.get(slug="domain-drill")
    attempt = exam_services.attempt_start(user=learner, blueprint=blueprint, domain=old.domain, now=timezone.now())
    assert attempt.slots.filter(question_version=old).exists()

    data["questions"][0]["stem"] += " Assume the company has one AWS account."
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    changed = bank_load(path=small_bank_dir)
    assert changed.new_versions == [key]
    question = Question.objects.get(key=key)
    assert question.current_version.number == 2 and question.versions.count() == 2
    assert attempt.slots.filter(question_version=old).exists()  # the attempt keeps the version it drew


def test_a_broken_bank_loads_nothing_and_names_file_and_line(small_bank_dir):
    bank_load(path=small_bank_dir)
    before = QuestionVersion.objects.count()
    path = next((small_bank_dir / "questions").glob("d2-*.yaml"))
    data = yaml.safe_load(path.read_text())
    data["questions"][1]["options"] = data["questions"][1]["options"][:2]
    data["questions"][2]["notes"] = ["no-such-note-99"]
    data["questions"][0]["stem"] += " Changed."
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    with pytest.raises(BankLoadError) as error:
        bank_load(path=small_bank_dir)
    problems = "\n".join(error.value.problems)
    assert f"questions/{path.name} line" in problems
    assert "exactly 4 options" in problems or "5-6 options" in problems
    assert "unknown note ids: no-such-note-99" in problems
    assert QuestionVersion.objects.count() == before  # the valid change was not applied either


def test_invalid_yaml_is_reported_with_its_line(small_bank_dir):
    path = next((small_bank_dir / "questions").glob("d3-*.yaml"))
    path.write_text("questions:\n  - key: d3-x\n    stem: [unclosed\n")
    with pytest.raises(BankLoadError, match=r"d3-.*\.yaml line \d+: not valid YAML"):
        bank_load(path=small_bank_dir)
    assert not Bank.objects.exists()


def test_load_bank_command_fails_cleanly(tmp_path):
    with pytest.raises(CommandError, match="Nothing was loaded"):
        call_command("load_bank", str(tmp_path))


def test_export_load_export_is_byte_identical(tmp_path):
    """The whole shipped bank: exporting, loading the export, and exporting again changes no byte."""
    call_command("load_bank", stdout=StringIO())
    first = bank_export(bank=Bank.objects.get(slug="dop-c02"))
    export_dir = tmp_path / "export"
    for name, text in first.items():
        (export_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (export_dir / name).write_text(text, encoding="utf-8")
    over_source = bank_load(path=export_dir)  # the export says exactly what the source said
    assert over_source.unchanged == Question.objects.count() and not over_source.new_versions
    Question.objects.all().delete()  # versions protect their domains: remove them first
    Bank.objects.all().delete()
    report = bank_load(path=export_dir)
    assert len(report.created) == len(set(report.created)) > 0
    assert not report.new_versions
    second = bank_export(bank=Bank.objects.get(slug="dop-c02"))
    assert second == first
    assert len(yaml.safe_load(first["bank.yaml"])["exams"]) == 3


def test_export_command_writes_yaml_and_json(tmp_path, small_bank_dir):
    bank_load(path=small_bank_dir)
    call_command("export_bank", "dop-c02", "--format", "yaml", "--output", str(tmp_path / "y"), stderr=StringIO())
    assert (tmp_path / "y" / "bank.yaml").exists() and len(list((tmp_path / "y" / "questions").glob("*.yaml"))) == 6
    out = StringIO()
    call_command("export_bank", "dop-c02", "--format", "json", stdout=out)
    document = json.loads(out.getvalue())
    assert document["slug"] == "dop-c02" and len(document["questions"]) == 18


def test_bad_exam_definitions_are_refused(small_bank_dir):
    meta_path = small_bank_dir / "bank.yaml"
    meta = yaml.safe_load(meta_path.read_text())
    meta["exams"][0]["domain_weights"] = {9: 50}
    meta["exams"][1]["mode"] = "sprint"
    meta["exams"][2]["duration_minutes"] = None
    meta_path.write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    with pytest.raises(BankLoadError) as error:
        bank_load(path=small_bank_dir)
    problems = "\n".join(error.value.problems)
    assert "domain_weights" in problems and "mode must be one of" in problems and "needs duration_minutes" in problems
    assert not Bank.objects.exists()
