"""Moodle XML: `multichoice` questions in, every other type reported as skipped; parsed only through defusedxml.

DTDs, entity declarations and external references are refused before anything is read (so neither a billion
laughs nor an external entity can run). Text in format="html" becomes plain text: paragraphs and <br> become
line breaks, tags are dropped, entities decoded, and a warning names markup whose content was lost (images,
tables, media). Export writes format="plain_text", escaped by the XML writer.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - only to build and write; every parse goes through defusedxml

import defusedxml
import defusedxml.ElementTree as DET

from . import (
    MAX_QUESTIONS,
    Defaults,
    ExportResult,
    FormatError,
    ParseResult,
    Problem,
    add_choose_suffix,
    check_questions,
    decode,
    html_to_text,
    make_question,
    placement_tags,
    read_tags,
    text_fields,
    too_many,
    where,
)

LINE_ATTRIBUTE = "__line__"
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\r]")
DECLARED_ENCODING = re.compile(r"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([^"']+)["']""")


class _LineTreeBuilder(ET.TreeBuilder):
    """Records the line each element starts on (ElementTree keeps none), so problems can point at it."""

    expat = None

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        element.set(LINE_ATTRIBUTE, str(self.expat.CurrentLineNumber if self.expat else 1))
        return element


def _parse_xml(text: str, source: str) -> ET.Element:
    if (declared := DECLARED_ENCODING.match(text)) and declared[1].lower().replace("-", "") != "utf8":
        raise FormatError([Problem(source, 1, f"the file declares encoding {declared[1]!r}; save it as UTF-8")])
    builder = _LineTreeBuilder()
    parser = DET.DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.expat = parser.parser
    try:
        parser.feed(text.encode("utf-8"))
        return parser.close()
    except defusedxml.DTDForbidden:
        reason = "a DTD (<!DOCTYPE …>) is not allowed: entities could expand without bound or read local files"
    except defusedxml.EntitiesForbidden:
        reason = "entity declarations are not allowed (they could expand without bound)"
    except defusedxml.ExternalReferenceForbidden:
        reason = "external entity references are not allowed"
    except ET.ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else 1
        reason = f"malformed XML: {error.msg if hasattr(error, 'msg') else error}"
        raise FormatError([Problem(source, line, reason)]) from None
    except (ValueError, RecursionError) as error:
        reason = f"malformed XML ({error})"
    raise FormatError([Problem(source, parser.parser.CurrentLineNumber or 1, reason)])


def _line(element) -> int:
    return int(element.get(LINE_ATTRIBUTE, "1"))


def _text(element, result: ParseResult, source: str, dropped: set) -> str:
    """The plain text of a Moodle text holder (<questiontext format="…"><text>…</text>)."""
    if element is None:
        return ""
    holder = element.find("text")
    value = (holder.text or "") if holder is not None else (element.text or "")
    text_format = element.get("format", "html")
    if element.find("file") is not None:
        dropped.add("embedded files")
    if text_format in ("html", "moodle_auto_format"):
        value, lost = html_to_text(value, keep_newlines=text_format == "moodle_auto_format")
        dropped.update(lost)
    return value.strip()


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    return {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())


def parse(data: bytes | str, *, source: str = "<moodle-xml>", defaults: Defaults | None = None) -> ParseResult:
    """Read a Moodle XML file; raises FormatError only when refusing the whole file (size, encoding, markup)."""
    text = decode(data, source)
    root = _parse_xml(text, source)
    if root.tag != "quiz":
        raise FormatError([Problem(source, _line(root), f"the root element is <{root.tag}>; Moodle XML has <quiz>")])
    result = ParseResult()
    category = None
    count = 0
    for element in root:
        if element.tag != "question":
            continue
        kind = element.get("type", "")
        line = _line(element)
        if kind == "category":
            holder = element.find("category")
            category = (holder.findtext("text") or holder.text or "").strip() if holder is not None else None
            continue
        count += 1
        if count > MAX_QUESTIONS:
            raise too_many(source, line)
        name = (element.findtext("name/text") or "").strip()
        if kind != "multichoice":
            result.skipped.append(
                Problem(source, line, f"{name or 'question'}: type {kind or '(none)'!r}: only multichoice is imported")
            )
            continue
        _question(element, name=name, source=source, category=category, defaults=defaults, result=result)
    check_questions(result)
    return result


def _question(element, *, name, source, category, defaults, result: ParseResult) -> None:
    line = _line(element)
    dropped: set[str] = set()
    single = _bool(element.findtext("single", "true"))
    if single is None:
        result.errors.append(Problem(source, _line(element.find("single")), "<single> is true or false"))
        return
    options = []
    fractions = []
    for answer in element.findall("answer"):
        raw = answer.get("fraction", "0")
        try:
            fraction = float(raw)
        except ValueError:
            result.errors.append(Problem(source, _line(answer), f"answer fraction {raw!r} is not a number"))
            return
        if not -100 <= fraction <= 100:
            result.errors.append(Problem(source, _line(answer), f"answer fraction {fraction:g} is outside -100 to 100"))
            return
        fractions.append(fraction)
        correct = fraction == 100 if single else fraction > 0
        if single and 0 < fraction < 100:
            result.warnings.append(
                Problem(source, _line(answer), f"option {len(options) + 1}: partial credit {fraction:g}% read as wrong")
            )
        options.append(
            {
                "text": _text(answer, result, source, dropped),
                "correct": correct,
                "rationale": _text(answer.find("feedback"), result, source, dropped),
            }
        )
    if not single and len({f for f in fractions if f > 0}) > 1:
        result.warnings.append(
            Problem(source, line, "unequal positive fractions read as all-or-nothing: every positive option is correct")
        )
    tags = [(tag.findtext("text") or "") for tag in element.findall("tags/tag")]
    fields, tag_problems = read_tags(tags)
    for reason in tag_problems:
        result.errors.append(Problem(source, line, reason))
    question = make_question(
        source=source,
        line=line,
        stem=_text(element.find("questiontext"), result, source, dropped),
        options=options,
        kind="single" if single else "multiple",
        defaults=defaults,
        key_hint=(element.findtext("idnumber") or "").strip() or name,
        explanation=_text(element.find("generalfeedback"), result, source, dropped),
        domain=fields.get("domain"),
        task=fields.get("task"),
        topic=fields.get("topic"),
        notes=fields["notes"],
        category=category,
    )
    if dropped:
        result.warnings.append(
            Problem(source, line, f"{question['key']}: dropped markup: {', '.join(sorted(dropped))}")
        )
    add_choose_suffix(question, result)
    result.questions.append(question)


def unsupported(question: dict) -> str | None:
    """Why Moodle XML cannot carry this question, or None."""
    texts = text_fields(question) + placement_tags(question) + [str(question.get("key") or "")]
    if any(XML_ILLEGAL.search(text) for text in texts):
        return "a text holds a control character (or carriage return) that XML 1.0 cannot carry"
    return None


def _holder(parent, tag: str, text: str, **attributes) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": "plain_text", **attributes})
    ET.SubElement(element, "text").text = text
    return element


def _fraction(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".")


def export(questions: list[dict]) -> ExportResult:
    """Write Moodle XML (multichoice, format="plain_text"): key as name and idnumber, our fields as tags."""
    root = ET.Element("quiz")
    skipped = []
    exported = 0
    for question in questions:
        reason = unsupported(question)
        if reason:
            file, line = where(question)
            skipped.append(Problem(file, line, f"{question.get('key')}: {reason}"))
            continue
        exported += 1
        element = ET.SubElement(root, "question", {"type": "multichoice"})
        name = ET.SubElement(element, "name")
        ET.SubElement(name, "text").text = question["key"]
        _holder(element, "questiontext", question["stem"])
        _holder(element, "generalfeedback", question.get("explanation") or "")
        ET.SubElement(element, "defaultgrade").text = "1"
        ET.SubElement(element, "penalty").text = "0.3333333"
        ET.SubElement(element, "hidden").text = "0"
        ET.SubElement(element, "idnumber").text = question["key"]
        multiple = question["type"] == "multiple"
        ET.SubElement(element, "single").text = "false" if multiple else "true"
        ET.SubElement(element, "shuffleanswers").text = "true"
        ET.SubElement(element, "answernumbering").text = "abc"
        correct_count = sum(1 for o in question["options"] if o.get("correct")) or 1
        for option in question["options"]:
            wrong = -100 if multiple else 0  # a wrong pick in multiple response cancels a right one
            fraction = (100 / correct_count if multiple else 100) if option.get("correct") else wrong
            answer = _holder(element, "answer", option["text"], fraction=_fraction(fraction))
            feedback = ET.SubElement(answer, "feedback", {"format": "plain_text"})
            ET.SubElement(feedback, "text").text = option.get("rationale") or ""
        tags = placement_tags(question)
        if tags:
            holder = ET.SubElement(element, "tags")
            for tag in tags:
                ET.SubElement(ET.SubElement(holder, "tag"), "text").text = tag
    ET.indent(root)
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    return ExportResult(text=text, exported=exported, skipped=skipped)
