"""Read and write question files in other tools' formats (docs/import-export.md).

Pure Python, no Django, like bankfile.py: every reader returns plain dicts in the native question shape
(docs/bank-format.md) inside a ParseResult that lists, with file and line, every error, every skipped question
and every warning. A reader raises FormatError, and nothing else, when it refuses a file as a whole (too big, not
UTF-8, malformed markup). Imports are all-or-nothing: a caller converts or loads nothing while `errors` is not
empty (`ParseResult.raise_for_errors`).

Each format module (gift, aiken, moodle_xml, csv_format) offers `parse(data, *, source, defaults)` and
`export(questions)`; `read_native` and `write_native` here handle the native YAML.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from .. import bankfile

MAX_BYTES = 5 * 1024 * 1024
MAX_QUESTIONS = 2000
MAX_LINE_CHARS = 100_000

SOURCE_KEY = "__source__"
LINE_KEY = bankfile.LINE_KEY
CATEGORY_KEY = "__category__"
PRIVATE_KEYS = (SOURCE_KEY, LINE_KEY, CATEGORY_KEY)
NATIVE_FIELDS = ("key", "domain", "task", "topic", "notes", "type", "stem", "options", "explanation", "references")

# question_problems' rules that only an author can meet: a foreign file that lacks rationales or a long enough
# explanation still converts, with a warning naming what to write before load_bank accepts the question.
AUTHORING_RULES = (
    re.compile(r"^cite at least one note id"),
    re.compile(r"^option \d+ needs a one-line rationale"),
    re.compile(r"^explanation has \d+ words"),
    re.compile(r"^stem has \d+ sentences"),
)


@dataclass(frozen=True)
class Problem:
    """One error, skipped question or warning, where it is in its file, and why."""

    file: str
    line: int
    reason: str

    def __str__(self):
        return f"{self.file}:{self.line}: {self.reason}"


class FormatError(Exception):
    """A file refused as a whole, or an import with errors: nothing may be converted or loaded."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class ParseResult:
    """What a reader found: the questions, and every error, skip and warning with its line."""

    questions: list[dict] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise FormatError listing every error, so that nothing is converted when one question is wrong."""
        if self.errors:
            raise FormatError(self.errors)


@dataclass
class ExportResult:
    """The file a writer produced, and the questions it could not express (each with where it came from)."""

    text: str
    exported: int
    skipped: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Defaults:
    """Domain, task statement and topic for questions whose file does not say (command-line defaults)."""

    domain: int | None = None
    task: str | None = None
    topic: str | None = None


# --- reading a file safely -------------------------------------------------------------------------------------


def decode(data: bytes | str, source: str) -> str:
    """Return the file's text, or raise FormatError: over 5 MB, not UTF-8, or a line over 100,000 characters."""
    if isinstance(data, str):
        size = len(data.encode("utf-8", errors="surrogatepass"))
        text = data
    else:
        size = len(data)
        text = None
    if size > MAX_BYTES:
        raise FormatError(
            [Problem(source, 1, f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} (5 MB): split it")]
        )
    if text is None:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            offset = error.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
            line = data[:offset].count(b"\n") + 1
            raise FormatError(
                [Problem(source, line, "the file is not UTF-8 text: save it as UTF-8 (with or without BOM)")]
            ) from None
    text = text.removeprefix("\ufeff")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise FormatError([Problem(source, 1, "the file is not UTF-8 text (it holds lone surrogates)")])
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise FormatError(
                [Problem(source, number, f"line is {len(line):,} characters; the limit is {MAX_LINE_CHARS:,}")]
            )
    return text


def too_many(source: str, line: int) -> FormatError:
    return FormatError([Problem(source, line, f"more than {MAX_QUESTIONS:,} questions: split the file")])


# --- building and checking questions ---------------------------------------------------------------------------


def slug_key(text: str) -> str | None:
    """A key (lowercase letters, digits, hyphens) from a title or id, or None when too little of it is left."""
    if bankfile.KEY_PATTERN.match(str(text)):
        return str(text)
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:81].strip("-")
    return slug if bankfile.KEY_PATTERN.match(slug) else None


def stem_key(stem: str) -> str:
    """A stable key for a question with neither title nor id: a hash of its stem."""
    return "q-" + hashlib.sha256(stem.encode("utf-8", errors="surrogatepass")).hexdigest()[:12]


def make_question(
    *,
    source: str,
    line: int,
    stem: str,
    options: list[dict],
    kind: str,
    defaults: Defaults | None,
    key_hint: str | None = None,
    explanation: str = "",
    domain=None,
    task=None,
    topic=None,
    notes=None,
    references=None,
    category: str | None = None,
) -> dict:
    """A question in the native shape (canonical key order), with the defaults for what the file lacks."""
    defaults = defaults or Defaults()
    stem = stem.strip()
    key = (slug_key(key_hint) if key_hint else None) or stem_key(stem)
    question = {
        "key": key,
        "domain": domain if domain is not None else defaults.domain,
        "task": task if task is not None else defaults.task,
        "topic": topic if topic is not None else defaults.topic,
        "notes": list(notes or []),
        "type": kind,
        "stem": stem,
        "options": [
            {
                "text": str(o["text"]).strip(),
                **({"correct": True} if o.get("correct") else {}),
                "rationale": str(o.get("rationale") or "").strip(),
            }
            for o in options
        ],
        "explanation": explanation.strip(),
    }
    if references:
        question["references"] = list(references)
    question[SOURCE_KEY] = source
    question[LINE_KEY] = line
    if category:
        question[CATEGORY_KEY] = category
    return question


def clean(question: dict) -> dict:
    """The question without the reader's bookkeeping (source, line, category): what a writer writes."""
    return {k: v for k, v in question.items() if k not in PRIVATE_KEYS}


def where(question: dict) -> tuple[str, int]:
    return str(question.get(SOURCE_KEY, "<questions>")), int(question.get(LINE_KEY) or 1)


def choose_suffix(count: int) -> str:
    return f"(Choose {bankfile.CHOOSE_WORDS.get(count, count)}.)"


def add_choose_suffix(question: dict, result: ParseResult) -> None:
    """Foreign multiple-response stems rarely say how many to choose; ours must, so add it (with a warning)."""
    count = bankfile.correct_count(question)
    if question["type"] != "multiple" or count not in bankfile.CHOOSE_WORDS:
        return
    suffix = choose_suffix(count)
    if not question["stem"].endswith(suffix) and not re.search(r"\(Choose \w+\.\)$", question["stem"]):
        question["stem"] = f"{question['stem']} {suffix}".strip()
        file, line = where(question)
        result.warnings.append(Problem(file, line, f"added '{suffix}' to the stem, as multiple response needs"))


def _bank_for(question: dict) -> bankfile.BankData:
    """A bank holding exactly this question's domain, task, topic and notes, to apply the shape rules alone.

    Whether a question may cite no note depends on its topic in the bank it lands in, so that rule waits too.
    """
    notes = question.get("notes") if isinstance(question.get("notes"), list) else []
    meta = {
        "domains": [{"number": question.get("domain"), "tasks": [{"code": str(question.get("task"))}]}],
        "topics": [{"slug": question.get("topic"), "min_questions": 1}],
    }
    hashable = [n for n in notes if isinstance(n, str)]
    return bankfile.BankData(meta=meta, notes=[bankfile.Note(n, "", "", i) for i, n in enumerate(hashable)])


def check_questions(result: ParseResult, *, bank: bankfile.BankData | None = None) -> None:
    """Apply bankfile.question_problems to every question: shape rules are errors, authoring rules warnings.

    Without a bank (a foreign file), the question's domain, task and topic are checked for form only, since only
    the bank they land in knows which exist. Duplicate keys are errors naming both lines.
    """
    seen: dict[str, tuple[str, int]] = {}
    for question in result.questions:
        file, line = where(question)
        missing = []
        checked = question
        unreadable = [url for url in question.get("references") or [] if not _url_parses(url)]
        if unreadable:
            result.errors.append(
                Problem(file, line, f"{question.get('key')}: reference {unreadable[0]!r} is not a URL")
            )
            checked = {k: v for k, v in question.items() if k != "references"}
        for message in bankfile.question_problems(checked, bank or _bank_for(question)):
            if any(rule.match(message.message) for rule in AUTHORING_RULES):
                missing.append(message.message)
            else:
                result.errors.append(Problem(file, line, f"{question.get('key')}: {message.message}"))
        if bank is None:
            for problem in placement_form_problems(question):
                result.errors.append(Problem(file, line, f"{question.get('key')}: {problem}"))
        if missing:
            result.warnings.append(
                Problem(file, line, f"{question.get('key')}: before load_bank accepts it: " + "; ".join(missing))
            )
        key = question.get("key")
        if isinstance(key, str):
            if key in seen:
                first = seen[key]
                result.errors.append(
                    Problem(file, line, f"key {key!r} is already used by the question at {first[0]}:{first[1]}")
                )
            else:
                seen[key] = (file, line)


def _url_parses(url) -> bool:
    try:
        urlsplit(str(url)).hostname  # noqa: B018 - raises ValueError on a malformed host such as [html]
    except ValueError:
        return False
    return True


def placement_form_problems(question: dict) -> list[str]:
    """Domain, task and topic, when present, have the form the bank format gives them."""
    problems = []
    domain = question.get("domain")
    if domain is not None and (isinstance(domain, bool) or not isinstance(domain, int) or domain < 1):
        problems.append(f"domain must be a whole number from 1 (got {domain!r})")
    task = question.get("task")
    if task is not None and not re.match(r"^\d+\.\d+$", str(task)):
        problems.append(f"task must look like 1.2 (got {task!r})")
    topic = question.get("topic")
    if topic is not None and not (isinstance(topic, str) and re.match(r"^[a-z0-9][a-z0-9-]*$", topic)):
        problems.append(f"topic must be a slug: lowercase letters, digits, hyphens (got {topic!r})")
    return problems


def placement_problems(questions: list[dict]) -> list[Problem]:
    """Questions that still lack a domain, task or topic: the native format cannot hold them."""
    problems = []
    for question in questions:
        lacking = [name for name in ("domain", "task", "topic") if question.get(name) in (None, "")]
        if lacking:
            file, line = where(question)
            flags = " ".join(f"--{name}" for name in lacking)
            problems.append(
                Problem(
                    file, line, f"{question.get('key')}: no {', '.join(lacking)}: the file does not say; give {flags}"
                )
            )
    return problems


def text_fields(question: dict) -> list[str]:
    """Every piece of text a writer has to carry."""
    texts = [str(question.get("stem") or ""), str(question.get("explanation") or "")]
    for option in question.get("options") or []:
        texts += [str(option.get("text") or ""), str(option.get("rationale") or "")]
    return texts


# Tags carry our fields in GIFT and Moodle XML: domain-1, task-1.1, topic-codebuild, note-codebuild-01.
TAG_PREFIXES = ("domain-", "task-", "topic-", "note-")


def placement_tags(question: dict) -> list[str]:
    tags = []
    if question.get("domain") is not None:
        tags.append(f"domain-{question['domain']}")
    if question.get("task") is not None:
        tags.append(f"task-{question['task']}")
    if question.get("topic"):
        tags.append(f"topic-{question['topic']}")
    tags += [f"note-{note}" for note in question.get("notes") or []]
    return tags


def read_tags(tags: list[str]) -> tuple[dict, list[str]]:
    """Our fields from a question's tags, and the reasons any of them cannot be read; other tags are ignored."""
    found: dict = {"notes": []}
    problems = []
    for tag in tags:
        tag = tag.strip()
        if tag.startswith("domain-"):
            value = tag.removeprefix("domain-")
            if value.isdigit() and value.isascii():
                found["domain"] = int(value)
            else:
                problems.append(f"tag {tag!r}: a domain is a number, as in domain-1")
        elif tag.startswith("task-"):
            found["task"] = tag.removeprefix("task-")
        elif tag.startswith("topic-"):
            found["topic"] = tag.removeprefix("topic-")
        elif tag.startswith("note-") and tag != "note-":
            found["notes"].append(tag.removeprefix("note-"))
    return found, problems


# --- HTML to plain text (Moodle XML, and GIFT's [html] text) ---------------------------------------------------

PARAGRAPH_TAGS = {
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dl",
    "hr",
    "figure",
}
LINE_TAGS = {"div", "li", "tr", "dt", "dd", "section", "article", "header", "footer", "figcaption", "caption"}
DROPPED_TAGS = {"img", "table", "iframe", "object", "embed", "video", "audio", "svg", "math", "canvas", "form"}
SILENT_TAGS = {"script", "style", "head", "title", "template"}
LIKELY_HTML = re.compile(
    r"</?(p|br|div|span|b|i|u|em|strong|img|table|tr|td|ul|ol|li|a|sub|sup|h[1-6]|pre|code|font)\b[^>]*>",
    re.IGNORECASE,
)
_PARAGRAPH, _LINE = object(), object()


class _TextExtractor(HTMLParser):
    def __init__(self, *, keep_newlines: bool):
        super().__init__(convert_charrefs=True)
        self.parts: list = []
        self.dropped: set[str] = set()
        self.silent = 0
        self.pre = 0
        self.keep_newlines = keep_newlines

    def _break(self, tag):
        if tag == "br":
            self.parts.append("\n")
        elif tag in PARAGRAPH_TAGS:
            self.parts.append(_PARAGRAPH)
        elif tag in LINE_TAGS:
            self.parts.append(_LINE)
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_starttag(self, tag, attrs):
        if tag in SILENT_TAGS:
            self.silent += 1
            self.dropped.add(tag)
        if tag in DROPPED_TAGS:
            self.dropped.add(tag)
        if tag == "pre":
            self.pre += 1
        self._break(tag)

    def handle_startendtag(self, tag, attrs):
        if tag in DROPPED_TAGS:
            self.dropped.add(tag)
        self._break(tag)

    def handle_endtag(self, tag):
        if tag in SILENT_TAGS and self.silent:
            self.silent -= 1
        if tag == "pre" and self.pre:
            self.pre -= 1
        if tag != "br":
            self._break(tag)

    def handle_data(self, data):
        if self.silent:
            return
        if self.pre:
            self.parts.append(data)
        elif self.keep_newlines:
            self.parts.append(re.sub(r"[ \t\f\v]+", " ", data))
        else:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        """The parts joined: a run of block boundaries is one break, a blank line if a paragraph is among them."""
        out, run = [], []
        for part in self.parts + [_LINE]:
            if part is _PARAGRAPH or part is _LINE:
                run.append(part)
                continue
            if run and part.strip(" \t"):
                if out:
                    out.append("\n\n" if _PARAGRAPH in run else "\n")
                run = []
            out.append(part)
        return "".join(out)


def html_to_text(markup: str, *, keep_newlines: bool = False) -> tuple[str, list[str]]:
    """Plain text from HTML (a blank line between paragraphs, a line break for <br>, list items and rows; tags
    dropped, entities decoded) and the kinds of markup whose content was lost (images, tables, media, scripts)."""
    extractor = _TextExtractor(keep_newlines=keep_newlines)
    try:
        extractor.feed(markup)
        extractor.close()
    except (AssertionError, ValueError, IndexError):  # html.parser on malformed markup: keep the raw text
        return html.unescape(re.sub(r"<[^>]*>", " ", markup)).strip(), ["malformed HTML"]
    text = extractor.text().replace("\xa0", " ")
    lines = [line.strip(" \t") for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    dropped = sorted(extractor.dropped)
    if "@@PLUGINFILE@@" in markup:
        dropped.append("embedded files")
    return text, dropped


# --- the native format -----------------------------------------------------------------------------------------


class _NativeLoader(bankfile._LineLoader):
    """bankfile's line-recording safe loader, refusing aliases (a few bytes of them expand without bound)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def _load_yaml(text: str, source: str):
    try:
        return yaml.load(text, Loader=_NativeLoader)  # noqa: S506 - _NativeLoader is a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark else 1
        reason = f"not valid YAML ({getattr(error, 'problem', None) or error})"
        raise FormatError([Problem(source, line, reason)]) from None
    except RecursionError:
        raise FormatError([Problem(source, 1, "not valid YAML (nested too deeply)")]) from None


def parse_native(data: bytes | str, *, source: str = "<native>", defaults: Defaults | None = None) -> ParseResult:
    """Read a questions file of the native format (`questions: [...]`, YAML or the JSON export)."""
    text = decode(data, source)
    document = _load_yaml(text, source)
    result = ParseResult()
    items = document.get("questions") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise FormatError([Problem(source, 1, "a native questions file is a mapping with a 'questions' list")])
    if len(items) > MAX_QUESTIONS:
        raise too_many(source, 1)
    defaults = defaults or Defaults()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            result.errors.append(Problem(source, 1, f"question {number} is not a mapping"))
            continue
        line = item.get(LINE_KEY, 1)
        question = bankfile.strip_lines(item)
        for name in ("domain", "task", "topic"):
            if question.get(name) is None and getattr(defaults, name) is not None:
                question[name] = getattr(defaults, name)
        if isinstance(question.get("task"), int | float) and not isinstance(question.get("task"), bool):
            question["task"] = str(question["task"])
        unknown = sorted(set(question) - set(NATIVE_FIELDS), key=str)
        if unknown:
            result.warnings.append(Problem(source, line, f"ignored unknown field(s): {', '.join(map(str, unknown))}"))
            question = {k: v for k, v in question.items() if k in NATIVE_FIELDS}
        shape = _native_shape_problem(question)
        if shape:
            result.errors.append(Problem(source, line, f"{question.get('key')!s}: {shape}"))
            continue
        question[SOURCE_KEY] = source
        question[LINE_KEY] = line
        result.questions.append(question)
    return result


def _native_shape_problem(question: dict) -> str | None:
    """The field types bankfile's rules assume (a list where a list goes, text where text goes), or why not."""
    options = question.get("options")
    if not isinstance(options, list) or not all(isinstance(o, dict) for o in options):
        return "options must be a list of mappings (text, correct, rationale)"
    for name in ("domain", "topic", "type", "key"):
        if isinstance(question.get(name), list | dict):
            return f"{name} must be a single value"
    for name in ("notes", "references"):
        value = question.get(name)
        if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            return f"{name} must be a list of text"
    return None


def read_native(path: str | Path, *, defaults: Defaults | None = None) -> ParseResult:
    """Read a bank folder (checked against its bank.yaml and notes.md) or one native questions file."""
    root = Path(path)
    if not root.is_dir():
        result = parse_native(_read_bytes(root), source=root.name, defaults=defaults)
        check_questions(result)
        return result
    meta_path = root / "bank.yaml"
    if not meta_path.exists():
        raise FormatError([Problem(str(root), 1, "a bank folder holds bank.yaml (docs/bank-format.md)")])
    meta = _load_yaml(decode(_read_bytes(meta_path), "bank.yaml"), "bank.yaml")
    notes_path = root / "notes.md"
    notes = bankfile.parse_notes(decode(_read_bytes(notes_path), "notes.md")) if notes_path.exists() else []
    if not isinstance(meta, dict):
        raise FormatError([Problem("bank.yaml", 1, "bank.yaml is a mapping (docs/bank-format.md)")])
    bank = bankfile.BankData(meta=bankfile.strip_lines(meta), notes=notes)
    try:
        meta_errors = bankfile.meta_problems(bank)
        bank.tasks_by_domain, bank.topics  # noqa: B018 - both raise on a malformed domain or topic list
    except (AttributeError, KeyError, TypeError, ValueError):
        meta_errors = [bankfile.Problem("bank.yaml", "domains or topics are malformed (docs/bank-format.md)")]
    if meta_errors:
        raise FormatError([Problem("bank.yaml", 1, p.message) for p in meta_errors])
    result = ParseResult()
    for question_file in sorted((root / "questions").glob("*.yaml")):
        source = f"questions/{question_file.name}"
        part = parse_native(_read_bytes(question_file), source=source, defaults=defaults)
        result.questions += part.questions
        result.errors += part.errors
        result.warnings += part.warnings
        if len(result.questions) > MAX_QUESTIONS:
            raise too_many(source, 1)
    check_questions(result, bank=bank)
    return result


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FormatError([Problem(path.name, 1, f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} (5 MB)")])
        return path.read_bytes()
    except OSError as error:
        raise FormatError([Problem(str(path), 1, f"cannot read the file ({error.strerror or error})")]) from None


class _BlockDumper(yaml.SafeDumper):
    """Long or multi-line text as block scalars, so a written file reads like the hand-written bank."""

    def ignore_aliases(self, data):
        return True


def _represent_str(dumper, value):
    plain_safe = value == value.strip() and not any(c in value for c in "\t\x85\u2028\u2029")
    style = None
    if "\n" in value and plain_safe and "\n\n\n" not in value:
        style = "|"
    elif len(value) > 80 and plain_safe and "\n" not in value and "  " not in value:
        style = ">"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def write_native(questions: list[dict]) -> ExportResult:
    """The questions as one native questions file (`questions: [...]`) for a bank folder's questions/."""
    items = [clean(q) for q in questions]
    text = yaml.dump({"questions": items}, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=100)
    return ExportResult(text=text, exported=len(items))


def read_file(path: str | Path, fmt: str, *, defaults: Defaults | None = None) -> ParseResult:
    """Read a file (or, for native, a bank folder) in one of FORMATS, checked; raises only FormatError."""
    if fmt == "native":
        return read_native(path, defaults=defaults)
    module = FORMATS[fmt]
    source = Path(path).name
    return module.parse(_read_bytes(Path(path)), source=source, defaults=defaults)


def export(questions: list[dict], fmt: str) -> ExportResult:
    if fmt == "native":
        return write_native(questions)
    return FORMATS[fmt].export(questions)


def _formats():
    from . import aiken, csv_format, gift, moodle_xml

    return {"gift": gift, "aiken": aiken, "moodle-xml": moodle_xml, "csv": csv_format}


FORMATS = _formats()
FORMAT_NAMES = ("native", *FORMATS)
