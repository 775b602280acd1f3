"""Read, check and write the bank file format (docs/bank-format.md).

Pure Python (PyYAML only, no Django) so that it serves three callers: `load_bank` checks a whole bank before
writing anything, the test suite checks the shipped bank's quality rules, and an author runs it by hand:

    python quizapp/bank/bankfile.py quizapp/bank/data/dop-c02            # whole bank, all rules
    python quizapp/bank/bankfile.py quizapp/bank/data/dop-c02 --file questions/d1-sdlc-automation.yaml
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

LINE_KEY = "__line__"
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{2,80}$")
NOTE_PATTERN = re.compile(r"^(?P<indent>\s*)- \[(?P<id>[a-z0-9-]+-\d+)\] (?P<text>.+)$")
HEADING_PATTERN = re.compile(r"^(?P<hashes>#{2,6}) (?P<title>.+)$")
CHOOSE_WORDS = {2: "TWO", 3: "THREE", 4: "FOUR"}
FORBIDDEN_OPTIONS = re.compile(r"\b(all|none) of the above\b", re.IGNORECASE)
QUESTION_TYPES = ("single", "multiple")
REFERENCE_HOSTS = ("docs.aws.amazon.com", "aws.amazon.com")
MAX_REFERENCES = 3


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records each mapping's 1-based line, so errors can point at the source."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping[LINE_KEY] = node.start_mark.line + 1
        return mapping


@dataclass
class Note:
    id: str
    heading: str
    text: str
    position: int


@dataclass
class Problem:
    where: str
    message: str

    def __str__(self):
        return f"{self.where}: {self.message}"


@dataclass
class BankData:
    meta: dict
    notes: list[Note]
    questions: list[dict] = field(default_factory=list)

    @property
    def note_ids(self):
        return {note.id for note in self.notes}

    @property
    def tasks_by_domain(self):
        return {d["number"]: [t["code"] for t in d["tasks"]] for d in self.meta["domains"]}

    @property
    def topics(self):
        return {t["slug"]: t for t in self.meta["topics"]}


def parse_yaml(text: str, source: str = "<text>"):
    """Parse YAML text, recording line numbers; raise ValueError naming the line on a syntax error."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ValueError(f"{source}{line}: not valid YAML ({getattr(error, 'problem', error)})") from error


def strip_lines(value):
    """Return a copy of parsed YAML without the recorded line numbers."""
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != LINE_KEY}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def parse_notes(text: str) -> list[Note]:
    """Read the notes file: every bullet `- [id] text` under its chain of headings."""
    headings: list[str] = []
    notes = []
    for line in text.splitlines():
        if match := HEADING_PATTERN.match(line):
            depth = len(match["hashes"]) - 2
            headings = headings[:depth] + [match["title"].strip()]
        elif match := NOTE_PATTERN.match(line):
            notes.append(Note(match["id"], " / ".join(headings), match["text"].strip(), len(notes) + 1))
    return notes


def read_bank_dir(path: str | Path) -> BankData:
    """Read bank.yaml, notes.md and questions/*.yaml from a bank folder (raises ValueError on bad YAML)."""
    root = Path(path)
    meta = parse_yaml((root / "bank.yaml").read_text(encoding="utf-8"), "bank.yaml")
    notes_file = root / "notes.md"
    notes = parse_notes(notes_file.read_text(encoding="utf-8")) if notes_file.exists() else []
    bank = BankData(meta=strip_lines(meta), notes=notes)
    for question_file in sorted((root / "questions").glob("*.yaml")):
        source = f"questions/{question_file.name}"
        parsed = parse_yaml(question_file.read_text(encoding="utf-8"), source) or {}
        for question in parsed.get("questions") or []:
            question["__source__"] = source
            bank.questions.append(question)
    return bank


def words(text: str) -> int:
    return len(str(text).split())


def sentences(text: str) -> int:
    """Count sentences roughly, ignoring the '(Choose TWO.)' instruction."""
    text = re.sub(r"\(Choose \w+\.\)", "", text)
    return len([s for s in re.split(r"(?<=[.?!])\s+", text.strip()) if s])


def correct_count(question: dict) -> int:
    return sum(1 for option in question.get("options") or [] if option.get("correct") is True)


def correct_is_strictly_longest(question: dict) -> bool:
    options = question.get("options") or []
    if not options:
        return False
    lengths = sorted((len(str(o.get("text", ""))), bool(o.get("correct"))) for o in options)
    longest_length, longest_correct = lengths[-1]
    return longest_correct and (len(lengths) == 1 or lengths[-2][0] < longest_length)


def question_problems(question: dict, bank: BankData) -> list[Problem]:
    """Check one question's structure and style rules."""
    where = f"{question.get('__source__', '?')} line {question.get(LINE_KEY, '?')}"
    key = question.get("key")
    if key:
        where += f" ({key})"
    problems = []

    def problem(message):
        problems.append(Problem(where, message))

    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        problem("key must be 3-81 lowercase letters, digits and hyphens")
    domain = question.get("domain")
    tasks = bank.tasks_by_domain
    if domain not in tasks:
        problem(f"domain must be one of {sorted(tasks)}")
    elif str(question.get("task")) not in tasks[domain]:
        problem(f"task must be one of {tasks[domain]} for domain {domain}")
    if question.get("topic") not in bank.topics:
        problem(f"topic {question.get('topic')!r} is not in bank.yaml's topics")
    notes = question.get("notes") or []
    if not isinstance(notes, list):
        problem("notes must be a list of note ids")
        notes = []
    unknown = [n for n in notes if n not in bank.note_ids]
    if unknown:
        problem(f"unknown note ids: {', '.join(map(str, unknown))}")
    topic = bank.topics.get(question.get("topic"), {})
    if not notes and not topic.get("min_questions") and bank.notes:
        problem("cite at least one note id (only questions on a heading the notes leave empty may cite none)")

    stem = str(question.get("stem") or "").strip()
    if not stem:
        problem("stem is empty")
    kind = question.get("type")
    options = question.get("options") or []
    if kind not in QUESTION_TYPES:
        problem(f"type must be one of {QUESTION_TYPES}")
    correct = correct_count(question)
    if kind == "single":
        if len(options) != 4 or correct != 1:
            problem(f"a single-answer question has exactly 4 options and 1 correct (has {len(options)}, {correct})")
        if "Choose" in stem:
            problem("a single-answer stem does not say 'Choose …'")
    elif kind == "multiple":
        if len(options) not in (5, 6) or correct not in (2, 3):
            problem(f"a multiple-response question has 5-6 options and 2-3 correct (has {len(options)}, {correct})")
        expected = f"(Choose {CHOOSE_WORDS.get(correct, correct)}.)"
        if not stem.endswith(expected):
            problem(f"a multiple-response stem ends with '{expected}'")
    texts = [str(o.get("text") or "").strip() for o in options]
    if any(not t for t in texts):
        problem("every option needs text")
    if len(set(texts)) != len(texts):
        problem("two options have the same text")
    if any(FORBIDDEN_OPTIONS.search(t) for t in texts):
        problem("no 'all of the above' / 'none of the above' options")
    for number, option in enumerate(options, start=1):
        rationale = str(option.get("rationale") or "").strip()
        if not rationale or "\n" in rationale:
            problem(f"option {number} needs a one-line rationale")
        if not isinstance(option.get("correct", False), bool):
            problem(f"option {number}: correct is true or false")
    for message in reference_problems(question.get("references")):
        problem(message)
    explanation = str(question.get("explanation") or "")
    if not 40 <= words(explanation) <= 150:
        problem(f"explanation has {words(explanation)} words; write 40-150")
    if stem and not 2 <= sentences(stem) <= 7:
        problem(f"stem has {sentences(stem)} sentences; write a 2-6 sentence scenario")
    return problems


def reference_problems(references) -> list[str]:
    """Check a question's optional `references`: 1-3 distinct https URLs on an AWS documentation host."""
    if references is None:
        return []
    if not isinstance(references, list) or not 1 <= len(references) <= MAX_REFERENCES:
        return [f"references is a list of 1-{MAX_REFERENCES} URLs"]
    problems = []
    for url in references:
        try:
            parts = urlsplit(str(url))
            hostname = parts.hostname
        except ValueError:  # e.g. "https://[html]/x": not a URL at all
            problems.append(f"reference {url!r} is not a URL")
            continue
        if parts.scheme != "https" or hostname not in REFERENCE_HOSTS or not parts.path.strip("/"):
            problems.append(f"reference {url!r} is not an https page on {' or '.join(REFERENCE_HOSTS)}")
    normalised = [str(url).split("#")[0].rstrip("/") for url in references]
    if len(set(normalised)) != len(normalised):
        problems.append("a reference is cited twice in one question")
    return problems


def key_positions(questions: list[dict]) -> Counter:
    """How often each option position (0-3) holds the key of a single-answer question."""
    positions = Counter()
    for question in questions:
        flags = [option.get("correct") is True for option in question.get("options") or []]
        if question.get("type") == "single" and flags.count(True) == 1:
            positions[flags.index(True)] += 1
    return positions


def structural_problems(bank: BankData) -> list[Problem]:
    """Rules every bank must meet to load: valid questions and unique keys."""
    problems = []
    for question in bank.questions:
        problems.extend(question_problems(question, bank))
    keys = Counter(q.get("key") for q in bank.questions)
    for key, count in keys.items():
        if count > 1:
            problems.append(Problem("bank", f"key {key!r} is used by {count} questions"))
    return problems


EXAM_MODES = ("timed", "practice")
DOMAIN_SELECTIONS = ("weighted", "chosen")


def meta_problems(bank: BankData) -> list[Problem]:
    """Check bank.yaml: identity, domains with task statements, topics, and exam definitions."""
    meta = bank.meta or {}
    problems = []

    def problem(message):
        problems.append(Problem("bank.yaml", message))

    if not isinstance(meta.get("slug"), str) or not KEY_PATTERN.match(meta.get("slug", "")):
        problem("slug must be lowercase letters, digits and hyphens")
    if not meta.get("title"):
        problem("title is required")
    domains = meta.get("domains") or []
    if not domains:
        problem("at least one domain is required")
    for domain in domains:
        if not isinstance(domain.get("number"), int) or not domain.get("name") or not domain.get("tasks"):
            problem(f"domain {domain.get('number')!r} needs a number, a name and tasks")
    if domains and sum(int(d.get("weight") or 0) for d in domains) != 100:
        problem("domain weights must add up to 100")
    for topic in meta.get("topics") or []:
        if not topic.get("slug") or not topic.get("name"):
            problem("every topic needs a slug and a name")
    for exam in meta.get("exams") or []:
        where = f"exam {exam.get('slug')!r}"
        if not isinstance(exam.get("slug"), str) or not KEY_PATTERN.match(exam.get("slug", "")):
            problem(f"{where}: slug must be lowercase letters, digits and hyphens")
        if exam.get("mode") not in EXAM_MODES:
            problem(f"{where}: mode must be one of {EXAM_MODES}")
        if exam.get("domain_selection", "weighted") not in DOMAIN_SELECTIONS:
            problem(f"{where}: domain_selection must be one of {DOMAIN_SELECTIONS}")
        weights = exam.get("domain_weights") or {}
        numbers = {d.get("number") for d in domains}
        if not isinstance(weights, dict) or any(
            not str(k).isdigit() or int(k) not in numbers or not isinstance(v, int) or v < 0 for k, v in weights.items()
        ):
            problem(f"{where}: domain_weights maps this bank's domain numbers to whole-number weights")
        if not isinstance(exam.get("question_count"), int) or exam["question_count"] < 1:
            problem(f"{where}: question_count must be a positive whole number")
        minutes = exam.get("duration_minutes")
        if exam.get("mode") == "timed" and (not isinstance(minutes, int) or minutes < 1):
            problem(f"{where}: a timed exam needs duration_minutes")
        if not 1 <= int(exam.get("pass_mark_percent") or 0) <= 100:
            problem(f"{where}: pass_mark_percent must be 1-100")
    return problems


def shingles(text: str, size: int = 3) -> set:
    tokens = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(tokens[i : i + size]) for i in range(max(len(tokens) - size + 1, 1))}


def near_duplicate_stems(questions: list[dict], threshold: float = 0.5) -> list[tuple[str, str, float]]:
    """Pairs of questions whose stems share most of their word 3-grams (Jaccard similarity)."""
    prepared = [(q.get("key"), shingles(str(q.get("stem", "")))) for q in questions]
    pairs = []
    for i, (key_a, a) in enumerate(prepared):
        for key_b, b in prepared[i + 1 :]:
            similarity = len(a & b) / len(a | b) if a | b else 0
            if similarity >= threshold:
                pairs.append((key_a, key_b, similarity))
    return pairs


# The shipped bank's second edition (issue 10): six full mocks without a repeat, and these shares.
MIN_QUESTIONS = 450
MIN_PER_TASK = 15
DOMAIN_SHARE_TOLERANCE = 2
MAX_LONGEST_SHARE = 0.25
KEY_POSITION_TOLERANCE = 0.05
MIN_NOTE_CITATIONS = 3
MIN_PER_TASK_IN_ONE_FILE = 5


def coverage_problems(bank: BankData, *, whole_bank: bool = True) -> list[Problem]:
    """The shipped bank's quality rules (issues 3 and 10): counts, shares, coverage, style ratios, duplicates."""
    problems = []
    questions = bank.questions
    total = len(questions)
    if not total:
        return [Problem("bank", "no questions")]

    def problem(message):
        problems.append(Problem("bank", message))

    multiple = sum(1 for q in questions if q.get("type") == "multiple")
    if not 0.15 <= multiple / total <= 0.25:
        problem(f"multiple response is {multiple / total:.0%} of questions; keep it within 15-25%")
    longest = sum(1 for q in questions if correct_is_strictly_longest(q))
    if longest / total > MAX_LONGEST_SHARE:
        problem(
            f"the correct option is strictly the longest in {longest / total:.0%} of questions; "
            f"keep it ≤ {MAX_LONGEST_SHARE:.0%}"
        )
    for key_a, key_b, similarity in near_duplicate_stems(questions):
        problem(f"stems of {key_a} and {key_b} are near duplicates ({similarity:.0%} shared 3-grams)")

    per_task = Counter(str(q.get("task")) for q in questions)
    domains_present = {q.get("domain") for q in questions}
    for domain, tasks in bank.tasks_by_domain.items():
        if whole_bank or domain in domains_present:
            for task in tasks:
                needed = MIN_PER_TASK if whole_bank else MIN_PER_TASK_IN_ONE_FILE
                if per_task[task] < needed:
                    problem(f"task {task} has {per_task[task]} questions; needs at least {needed}")
    if not whole_bank:
        return problems

    if total < MIN_QUESTIONS:
        problem(f"{total} questions; the shipped bank needs at least {MIN_QUESTIONS}")
    for question in questions:
        if not question.get("references"):
            problem(f"{question.get('key')}: cite 1-{MAX_REFERENCES} AWS documentation pages in references")
    positions = key_positions(questions)
    singles = sum(positions.values())
    for position in range(4):
        share = positions[position] / singles if singles else 0
        if abs(share - 0.25) > KEY_POSITION_TOLERANCE:
            problem(
                f"option {position + 1} holds the key of {share:.0%} of single-answer questions; "
                f"keep each position at 25% ± {KEY_POSITION_TOLERANCE:.0%}"
            )
    per_domain = Counter(q.get("domain") for q in questions)
    for domain in bank.meta["domains"]:
        share = 100 * per_domain[domain["number"]] / total
        if abs(share - domain["weight"]) > DOMAIN_SHARE_TOLERANCE:
            problem(
                f"domain {domain['number']} is {share:.1f}% of questions; "
                f"weight {domain['weight']}% ± {DOMAIN_SHARE_TOLERANCE}"
            )
    citations = Counter(note for q in questions for note in q.get("notes") or [])
    for note in bank.notes:
        if citations[note.id] < MIN_NOTE_CITATIONS:
            problem(f"note {note.id} is cited by {citations[note.id]} questions; needs at least {MIN_NOTE_CITATIONS}")
    per_topic = Counter(q.get("topic") for q in questions)
    for slug, topic in bank.topics.items():
        needed = topic.get("min_questions", 0)
        if per_topic[slug] < needed:
            problem(f"topic {slug} has {per_topic[slug]} questions; needs at least {needed}")
    return problems


def summary(bank: BankData) -> str:
    """A table of questions per domain and task statement, and the multiple-response share."""
    per_task = Counter(str(q.get("task")) for q in bank.questions)
    per_domain = Counter(q.get("domain") for q in bank.questions)
    total = len(bank.questions) or 1
    lines = ["| Domain | Questions | Share | Weight | Task statements |", "|---|---|---|---|---|"]
    for domain in bank.meta["domains"]:
        tasks = " · ".join(f"{t['code']}: {per_task[t['code']]}" for t in domain["tasks"])
        count = per_domain[domain["number"]]
        share = f"{100 * count / total:.1f}%"
        lines.append(f"| {domain['number']} {domain['name']} | {count} | {share} | {domain['weight']}% | {tasks} |")
    multiple = sum(1 for q in bank.questions if q.get("type") == "multiple")
    longest = sum(1 for q in bank.questions if correct_is_strictly_longest(q))
    lines.append(f"\nTotal {len(bank.questions)}; multiple response {multiple} ({100 * multiple / total:.1f}%); ")
    lines[-1] += f"correct option strictly longest in {longest} ({100 * longest / total:.1f}%)"
    positions = key_positions(bank.questions)
    singles = sum(positions.values()) or 1
    lines.append(
        "Single-answer key positions: "
        + " · ".join(f"{p + 1}: {positions[p]} ({100 * positions[p] / singles:.0f}%)" for p in range(4))
    )
    referenced = sum(1 for q in bank.questions if q.get("references"))
    lines.append(f"Questions with references: {referenced} of {len(bank.questions)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bank_dir")
    parser.add_argument("--file", help="check only this questions file (path relative to the bank folder)")
    args = parser.parse_args(argv)
    try:
        bank = read_bank_dir(args.bank_dir)
    except ValueError as error:
        print(error)
        return 1
    if args.file:
        name = f"questions/{Path(args.file).name}"
        bank.questions = [q for q in bank.questions if q["__source__"] == name]
    problems = meta_problems(bank) + structural_problems(bank) + coverage_problems(bank, whole_bank=not args.file)
    citations = defaultdict(int)
    for question in bank.questions:
        for note in question.get("notes") or []:
            citations[note] += 1
    print(summary(bank))
    print("Note citations:", ", ".join(f"{k}={v}" for k, v in sorted(citations.items())))
    for item in problems:
        print(item)
    print(f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
