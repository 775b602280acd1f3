"""The shipped DOP-C02 bank meets the quality rules of issue 3 (each check can fail on a bad edit)."""

import re
from collections import Counter
from pathlib import Path

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


def test_at_least_225_questions_with_unique_keys(bank):
    assert len(bank.questions) >= 225
    assert len({q["key"] for q in bank.questions}) == len(bank.questions)


def test_domain_shares_within_three_points_of_the_weights(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^domain \d") == []


def test_every_task_statement_has_five_questions(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^task ") == []


def test_every_note_is_cited_twice(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^note ") == []


def test_every_note_is_cited_by_two_different_scenarios(bank):
    stems_by_note = {}
    for question in bank.questions:
        for note in question.get("notes") or []:
            stems_by_note.setdefault(note, set()).add(question["stem"])
    assert {n for n, stems in stems_by_note.items() if len(stems) < 2} == set()


def test_headings_without_notes_have_three_questions(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"^topic ") == []
    per_topic = Counter(q["topic"] for q in bank.questions)
    empty_headings = [slug for slug, topic in bank.topics.items() if topic.get("min_questions")]
    assert len(empty_headings) == 8
    assert all(per_topic[slug] >= 3 for slug in empty_headings)


def test_multiple_response_share_and_longest_option_rule(bank):
    assert rule_problems(bankfile.coverage_problems(bank), r"multiple response|strictly the longest") == []


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
