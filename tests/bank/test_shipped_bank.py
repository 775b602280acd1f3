"""The shipped DOP-C02 bank meets the quality rules of issues 3 and 10 (each check can fail on a bad edit)."""

import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from quizapp.bank import bankfile

BANK_DIR = Path(__file__).resolve().parents[2] / "quizapp" / "bank" / "data" / "dop-c02"
SHARED_NOTES = Path(__file__).resolve().parents[3] / "shared" / "seed" / "notes.md"


@pytest.fixture(scope="module")
def bank():
    return bankfile.read_bank_dir(BANK_DIR)


def rule_problems(problems, pattern):
    return [str(p) for p in problems if re.search(pattern, p.message)]


def test_the_notes_file_is_the_seed_with_every_note_id(bank):
    assert len(bank.notes) == 92
    assert len(bank.note_ids) == 92
    if SHARED_NOTES.exists():  # the copy in the repo is the seed as shipped to the project
        assert (BANK_DIR / "notes.md").read_text() == SHARED_NOTES.read_text()


def test_schema_and_option_rules(bank):
    assert bankfile.meta_problems(bank) == []
    assert [str(p) for p in bankfile.structural_problems(bank)] == []


def test_at_least_450_questions_six_full_mocks_with_unique_keys(bank):
    assert len(bank.questions) >= 450 >= 6 * 75
    assert len({q["key"] for q in bank.questions}) == len(bank.questions)


def test_domain_shares_within_two_points_of_the_weights(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^domain \d") == []


def test_every_task_statement_has_fifteen_questions(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^task ") == []
    per_task = Counter(str(q["task"]) for q in bank.questions)
    assert min(per_task[task] for tasks in bank.tasks_by_domain.values() for task in tasks) >= 15


def test_every_note_is_cited_three_times(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^note ") == []


def test_every_note_is_cited_by_three_different_scenarios(bank):
    stems_by_note = {}
    for question in bank.questions:
        for note in question.get("notes") or []:
            stems_by_note.setdefault(note, set()).add(question["stem"])
    assert set(stems_by_note) == bank.note_ids
    assert {n for n, stems in stems_by_note.items() if len(stems) < 3} == set()


def test_headings_without_notes_have_five_questions(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^topic ") == []
    per_topic = Counter(q["topic"] for q in bank.questions)
    empty_headings = [slug for slug, topic in bank.topics.items() if topic.get("min_questions")]
    assert len(empty_headings) == 8
    assert all(per_topic[slug] >= 5 for slug in empty_headings)


def test_multiple_response_share_and_longest_option_rule(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"multiple response|strictly the longest") == []


def test_single_answer_keys_are_spread_evenly_over_the_four_positions(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"holds the key") == []
    positions = bankfile.key_positions(bank.questions)
    singles = sum(positions.values())
    assert all(abs(positions[p] / singles - 0.25) <= 0.05 for p in range(4))


def test_every_question_cites_one_to_three_aws_documentation_pages(bank):
    for question in bank.questions:
        references = question.get("references") or []
        assert 1 <= len(references) <= 3, question["key"]
        for url in references:
            parts = urlsplit(url)
            assert parts.scheme == "https", (question["key"], url)
            assert parts.hostname in {"docs.aws.amazon.com", "aws.amazon.com"}, (question["key"], url)
        pages = [url.split("#")[0].rstrip("/") for url in references]
        assert len(set(pages)) == len(pages), f"{question['key']} cites a page twice"


def test_the_reference_checker_refuses_foreign_hosts_repeats_and_too_many():
    assert bankfile.reference_problems(None) == []
    assert bankfile.reference_problems(["https://docs.aws.amazon.com/codedeploy/latest/userguide/welcome.html"]) == []
    assert bankfile.reference_problems(["https://example.com/aws"])
    assert bankfile.reference_problems(["http://docs.aws.amazon.com/x.html"])
    assert bankfile.reference_problems(["https://docs.aws.amazon.com.evil.example/x.html"])
    assert bankfile.reference_problems(["https://docs.aws.amazon.com/a.html", "https://docs.aws.amazon.com/a.html#b"])
    assert bankfile.reference_problems([f"https://aws.amazon.com/{n}/" for n in range(4)])
    assert bankfile.reference_problems([])
    assert bankfile.reference_problems(["https://[html]/x"]) == ["reference 'https://[html]/x' is not a URL"]


def test_no_near_duplicate_stems(bank):
    assert bankfile.near_duplicate_stems(bank.questions) == []


def test_explanations_are_40_to_150_words(bank):
    lengths = [bankfile.words(q["explanation"]) for q in bank.questions]
    assert min(lengths) >= 40 and max(lengths) <= 150


def test_no_retired_fact_taught_as_current(bank):
    """OpsWorks is retired and Elasticsearch Service is OpenSearch: they may appear only as history."""
    for question in bank.questions:
        correct = [o["text"] for o in question["options"] if o.get("correct")]
        for text in correct:
            assert "OpsWorks" not in text, question["key"]
            assert "Elasticsearch Service" not in text, question["key"]
        everything = question["stem"] + " ".join(o["text"] for o in question["options"])
        assert "Amazon Elasticsearch" not in everything, question["key"]


def test_explanations_speak_of_aws_not_of_the_authoring(bank):
    authoring = re.compile(r"\bthe notes\b|\bnotes (say|leave|suggest|put)|heading (is )?empty|as the notes", re.I)
    for question in bank.questions:
        explanation = re.sub(r"\(notes?: [^)]*\)", "", question["explanation"])
        assert not authoring.search(explanation), question["key"]


def test_the_checker_reports_problems_it_is_shown():
    """The rules above would catch a bad bank: the checker itself fails on broken input."""
    bank = bankfile.read_bank_dir(BANK_DIR)
    broken = dict(bank.questions[0], key="broken-one", options=bank.questions[0]["options"][:3])
    broken["explanation"] = "Too short."
    bank.questions = [broken]
    messages = [p.message for p in bankfile.structural_problems(bank)]
    assert any("exactly 4 options" in m for m in messages)
    assert any("explanation has 2 words" in m for m in messages)
    assert bankfile.coverage_problems(bank)  # one question cannot meet the counts
