"""Importing into a bank and exporting from it (issue 13): preview with lines, all-or-nothing, every format out."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from quizapp.bank import formats, importing
from quizapp.bank.models import ImportDraft, Question

from .helpers import instructor, new_bank

pytestmark = pytest.mark.django_db

EXPLANATION = (
    "The canary configuration sends a small share of traffic to the new version first and the rest after the "
    "interval, which is what the team wants here. All at once shifts everything immediately, linear uses many "
    "equal steps, and OneAtATime belongs to EC2 and on-premises deployments, not to Lambda."
)
STEM = (
    "A team deploys a Lambda function with CodeDeploy. It wants ten percent of traffic first, then the rest. "
    "Which configuration fits?"
)
GOOD = f"""// [id:gift-canary]
::Canary::{STEM}{{
=Canary10Percent5Minutes#Ten percent first, the rest after five minutes.
~AllAtOnce#Shifts everything at once.
~Linear10PercentEvery1Minute#Ten equal steps.
~OneAtATime#An EC2 configuration.
####{EXPLANATION}
}}

::TF::Lambda is serverless.{{TRUE}}
"""
BROKEN = (
    GOOD
    + """
::Three::A question with three options. It cannot be a single answer here. Which one?{
=A#r
~B#r
~C#r
}
"""
)


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def upload(client, bank, text, **extra):
    data = {
        "file": SimpleUploadedFile("week3.gift", text.encode()),
        "file_format": "gift",
        "domain": "1",
        "task": "1.4",
        "topic": "deployment",
        "publish": "on",
        **extra,
    }
    return client.post(reverse("studio:import", args=[bank.slug]), data)


def test_the_preview_lists_errors_with_lines_skips_and_changes_nothing_until_confirmed():
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    response = upload(client, bank, BROKEN)
    draft = ImportDraft.objects.get()
    assert response.url == reverse("studio:import_preview", args=[bank.slug, draft.pk])
    page = client.get(response.url).content.decode()
    assert "week3.gift, line 12: " in page and "exactly 4 options" in page
    assert "line 10: TF: a true/false question" in page  # skipped, with its reason
    assert "Nothing can be imported until these are fixed" in page and "Import 1 question" not in page
    assert client.post(response.url).status_code == 422  # a confirm of a file with errors changes nothing
    assert not Question.objects.filter(bank=bank).exists()

    fixed = client.get(upload(client, bank, GOOD).url).content.decode()
    assert "To create (1)" in fixed and "gift-canary" in fixed and "Import 1 question" in fixed
    draft = ImportDraft.objects.latest("pk")
    done = client.post(reverse("studio:import_preview", args=[bank.slug, draft.pk]))
    assert done.status_code == 302
    question = Question.objects.get(bank=bank, key="gift-canary")
    assert question.status == Question.Status.PUBLISHED
    assert [c.rationale for c in question.current_version.choices.all()][
        0
    ] == "Ten percent first, the rest after five minutes."
    assert not ImportDraft.objects.filter(pk=draft.pk).exists()


def test_reimporting_a_changed_file_previews_an_update_with_what_changed():
    owner = instructor()
    bank = new_bank(owner)
    call_command_import(bank, GOOD)
    changed = GOOD.replace("Shifts everything at once.", "Moves all traffic in one step.")
    result = importing.read_upload(changed.encode(), "gift", source="week3.gift", defaults=defaults())
    preview = importing.import_preview(bank=bank, result=result)
    assert [(q.key, q.changes) for q in preview.updated] == [("gift-canary", ["options"])]
    importing.import_apply(bank=bank, result=result)
    assert Question.objects.get(bank=bank, key="gift-canary").current_version.number == 2


def defaults():
    return formats.Defaults(domain=1, task="1.4", topic="deployment")


def call_command_import(bank, text, *args, tmp="/tmp/import-test.gift"):
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    out = StringIO()
    call_command(
        "import_bank",
        tmp,
        "--bank",
        bank.slug,
        "--format",
        "gift",
        "--domain",
        "1",
        "--task",
        "1.4",
        "--topic",
        "deployment",
        *args,
        stdout=out,
    )
    return out.getvalue()


def test_the_import_command_dry_runs_and_refuses_a_file_with_errors_as_a_whole():
    owner = instructor()
    bank = new_bank(owner)
    dry = call_command_import(bank, GOOD, "--dry-run")
    assert "1 to create" in dry and "Dry run: nothing was changed." in dry
    assert not Question.objects.filter(bank=bank).exists()
    with pytest.raises(CommandError, match="Nothing was imported: 1 error"):
        call_command_import(bank, BROKEN)
    assert not Question.objects.filter(bank=bank).exists()
    assert "Imported into" in call_command_import(bank, GOOD)
    assert Question.objects.filter(bank=bank).count() == 1


def test_a_hostile_file_gets_a_clear_refusal_and_nothing_changes():
    owner = instructor()
    bank = new_bank(owner)
    client = client_for(owner)
    bomb = '<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "aaaa">]><quiz>&a;</quiz>'
    data = {"file": SimpleUploadedFile("bomb.xml", bomb.encode()), "file_format": "moodle-xml"}
    page = client.get(client.post(reverse("studio:import", args=[bank.slug]), data).url).content.decode()
    assert "refused as a whole" in page
    latin = {"file": SimpleUploadedFile("latin.gift", "::T::Caf\xe9{=a ~b}".encode("latin-1")), "file_format": "gift"}
    page = client.get(client.post(reverse("studio:import", args=[bank.slug]), latin).url).content.decode()
    assert "UTF-8" in page
    assert not Question.objects.filter(bank=bank).exists()


@pytest.mark.parametrize("fmt", ["gift", "moodle-xml", "aiken", "csv", "native"])
def test_every_format_downloads_and_reads_back(fmt):
    owner = instructor()
    bank = new_bank(owner)
    call_command_import(bank, GOOD)
    response = client_for(owner).get(reverse("studio:export", args=[bank.slug]), {"format": fmt})
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    result = importing.read_upload(response.content, fmt, source=f"export.{fmt}", defaults=defaults())
    assert [q["stem"] for q in result.questions][0].startswith("A team deploys a Lambda function")
    if fmt in ("gift", "moodle-xml", "csv", "native"):
        preview = importing.import_preview(bank=bank, result=result)
        assert preview.ok and len(preview.unchanged) == 1, preview  # our own export says exactly what the bank says


def test_export_bank_command_writes_gift_and_moodle_xml(tmp_path):
    owner = instructor()
    bank = new_bank(owner)
    call_command_import(bank, GOOD)
    for fmt, name in [("gift", "gift.txt"), ("moodle-xml", "moodle.xml")]:
        call_command("export_bank", bank.slug, "--format", fmt, "--output", str(tmp_path), stderr=StringIO())
        assert "Canary10Percent5Minutes" in (tmp_path / f"{bank.slug}.{name}").read_text()
