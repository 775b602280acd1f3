"""The import/export formats (docs/import-export.md): every corner of each format, hostile files, round trips."""

import re
from pathlib import Path

import defusedxml.ElementTree as DET
import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from quizapp.bank import bankfile, formats
from quizapp.bank.formats import aiken, csv_format, gift, moodle_xml

SHIPPED = Path(__file__).resolve().parents[2] / "quizapp" / "bank" / "data" / "dop-c02"
DEFAULTS = formats.Defaults(domain=2, task="2.1", topic="imported")
PARSERS = {"gift": gift, "aiken": aiken, "moodle-xml": moodle_xml, "csv": csv_format}

STEM = "A company deploys with AWS CodeDeploy. The deployment fails. What should the engineer do?"
EXPLANATION = " ".join(["word"] * 45)


@pytest.fixture(scope="module")
def shipped():
    """The shipped bank read once: reading 450 questions with line numbers takes a second or two."""
    return formats.read_native(SHIPPED)


def reasons(problems):
    return [p.reason for p in problems]


def native_question(**overrides):
    question = {
        "key": "d2-sample-question",
        "domain": 2,
        "task": "2.1",
        "topic": "imported",
        "notes": ["imported-01"],
        "type": "single",
        "stem": STEM,
        "options": [
            {"text": "Roll back = and retry {now}.", "correct": True, "rationale": "It fixes it: #1 choice."},
            {"text": "Wait~and see.", "rationale": "Nothing changes."},
            {"text": "Delete the stack\\group.", "rationale": "Too much."},
            {"text": "Open a ticket: later.", "rationale": "Too slow."},
        ],
        "explanation": EXPLANATION,
        "references": ["https://docs.aws.amazon.com/codedeploy/latest/userguide/welcome.html"],
    }
    question.update(overrides)
    return question


def multiple_question(**overrides):
    options = [{"text": f"Option {n}", "rationale": f"Because {n}."} for n in range(1, 6)]
    options[0]["correct"] = options[3]["correct"] = True
    fields = {"key": "d2-sample-multiple", "type": "multiple", "stem": STEM + " (Choose TWO.)", "options": options}
    return native_question(**{**fields, **overrides})


# --- GIFT --------------------------------------------------------------------------------------------------------

GIFT_FIXTURE = r"""// A file as Moodle documents GIFT: every corner.
$CATEGORY: $course$/top/DevOps/Deployments

// [id:gift-single] [tag:domain-3] [tag:task-3.2] [tag:topic-codedeploy] [tag:note-codedeploy-01] [tag:unrelated]
::Single answer\: escapes::A deployment uses \{blue\} and \~green\~ fleets, costs 100\% \= \#1
and a path C\:\\temp.\nIt runs twice. Which is right? {
=Shift traffic \= all at once #Right\: it is \{atomic\}.
~Shift 10% each minute #Slower than needed.
~Redeploy in place #Causes downtime.
~Do nothing #The fleet stays \#broken.
####The general feedback\: why the key is right.
}

::Weighted multiple::Which TWO lower risk? {
~%50%Canary releases #Right.
~%50%Automatic rollback #Right.
~%-100%Manual copying #Wrong.
~%-100%Skipping tests #Wrong.
~%-100%Deploying on Fridays #Wrong.
}

Moodle costs {~lots of money =nothing ~a small amount ~a donation} to download.

::Numeric::What is 2+2? {#4}

::Matching::Match them. {=cat -> meow =dog -> woof}

::Short::Name the service. {=CodeDeploy =AWS CodeDeploy}

::Essay::Explain blue/green. {}

::TF::CodeDeploy supports Lambda. {T}

Just some description without answers.

::Three options::Which one? {=A ~B ~C}

::html::[html]<p>First paragraph &amp; more.</p><p>Second<br>line <img src="x.png"></p> {
=<b>Bold</b> answer #<i>good</i>
~Plain \~ wrong
~Third
~Fourth
}
"""


def test_gift_reads_every_corner_of_the_format():
    result = gift.parse(GIFT_FIXTURE.encode(), source="fixture.gift", defaults=DEFAULTS)
    by_key = {q["key"]: q for q in result.questions}
    single = by_key["gift-single"]
    assert single["stem"] == (
        "A deployment uses {blue} and ~green~ fleets, costs 100\\% = #1\nand a path C:\\temp.\nIt runs twice. "
        "Which is right?"
    )
    assert [o["text"] for o in single["options"]][:2] == ["Shift traffic = all at once", "Shift 10% each minute"]
    assert single["options"][0] == {
        "text": "Shift traffic = all at once",
        "correct": True,
        "rationale": "Right: it is {atomic}.",
    }
    assert single["options"][3]["rationale"] == "The fleet stays #broken."
    assert single["explanation"] == "The general feedback: why the key is right."
    assert (single["domain"], single["task"], single["topic"], single["notes"]) == (
        3,
        "3.2",
        "codedeploy",
        ["codedeploy-01"],
    )
    assert single["__category__"] == "$course$/top/DevOps/Deployments"

    multiple = by_key["weighted-multiple"]
    assert multiple["type"] == "multiple"
    assert [o.get("correct", False) for o in multiple["options"]] == [True, True, False, False, False]
    assert multiple["stem"] == "Which TWO lower risk? (Choose TWO.)"
    assert (multiple["domain"], multiple["task"], multiple["topic"]) == (2, "2.1", "imported")  # the defaults

    missing_word = next(q for q in result.questions if q["stem"].startswith("Moodle costs"))
    assert missing_word["stem"] == "Moodle costs _____ to download."
    assert missing_word["key"] == formats.stem_key(missing_word["stem"])
    assert [o["text"] for o in missing_word["options"] if o.get("correct")] == ["nothing"]

    html_question = by_key["html"]
    assert html_question["stem"] == "First paragraph & more.\n\nSecond\nline"
    assert html_question["options"][0] == {"text": "Bold answer", "correct": True, "rationale": "good"}
    assert any("dropped markup: img" in r for r in reasons(result.warnings))

    skipped = {p.line: p.reason for p in result.skipped}
    assert "numerical" in skipped[24] and "matching" in skipped[26] and "short-answer" in skipped[28]
    assert "essay" in skipped[30] and "true/false" in skipped[32] and "description" in skipped[34]
    assert html_question["options"][1]["text"] == "Plain ~ wrong"
    assert [(p.line, p.reason) for p in result.errors] == [
        (36, "three-options: a single-answer question has exactly 4 options and 1 correct (has 3, 1)")
    ]
    assert all(p.file == "fixture.gift" for p in result.errors + result.skipped + result.warnings)


def test_gift_malformed_blocks_are_errors_with_their_lines():
    text = "::t::Stem {=a ~b\n\n::u::Stem {=a {~b}\n\n::v::Stem {junk =a ~b ~c ~d}\n\n::w:: Stem {~%500%a ~b}\n"
    result = gift.parse(text, defaults=DEFAULTS)
    assert [p.line for p in result.errors] == [1, 3, 5, 7]
    assert "no closing }" in result.errors[0].reason and "second {" in result.errors[1].reason
    assert "before the first answer" in result.errors[2].reason and "outside -100% to 100%" in result.errors[3].reason
    assert not result.questions


def test_gift_partial_credit_in_single_answer_is_reported():
    result = gift.parse("::p::Stem. Two. {=a ~%50%b ~c ~d}", defaults=DEFAULTS)
    assert reasons(result.warnings)[0] == "option 2: partial credit 50% read as wrong"


def test_gift_export_skips_only_what_it_cannot_carry_and_moodle_syntax_holds():
    question = native_question()
    result = gift.export([question, multiple_question(), native_question(key="bad-cr", stem="A\rB")])
    assert result.exported == 2 and reasons(result.skipped) == [
        "bad-cr: a text holds a carriage return, which GIFT cannot carry"
    ]
    assert "=Roll back \\= and retry \\{now\\}. #It fixes it\\: \\#1 choice." in result.text
    assert "~%50%Option 1 #Because 1." in result.text and "~%-100%Option 2 #Because 2." in result.text
    assert (
        "// [id:d2-sample-question] [tag:domain-2] [tag:task-2.1] [tag:topic-imported] [tag:note-imported-01]"
        in result.text
    )


# --- Aiken -------------------------------------------------------------------------------------------------------

AIKEN_FIXTURE = """Which service runs containers
without managing servers?
A. AWS Fargate
B) Amazon EC2
C. AWS Snowball
D. Amazon S3
ANSWER: A

Which service stores objects?
A. Amazon EBS
B. Amazon S3
C. AWS Lambda
D. Amazon SQS
ANSWER: B
"""


def test_aiken_reads_stem_lines_options_and_answer():
    result = aiken.parse(AIKEN_FIXTURE, source="a.txt", defaults=DEFAULTS)
    assert not result.errors
    first, second = result.questions
    assert first["stem"] == "Which service runs containers\nwithout managing servers?"
    assert [o["text"] for o in first["options"]] == ["AWS Fargate", "Amazon EC2", "AWS Snowball", "Amazon S3"]
    assert [bool(o.get("correct")) for o in second["options"]] == [False, True, False, False]
    assert (first["key"], first["domain"], first["task"], first["topic"]) == (
        formats.stem_key(first["stem"]),
        2,
        "2.1",
        "imported",
    )
    assert first["__line__"] == 1 and second["__line__"] == 9
    assert all("rationale" in r for r in reasons(result.warnings))  # Aiken has no rationale: say what to write


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("Q?\nA. a\nB. b\nD. d\nE. e\nANSWER: A", 4, "option D where C was expected"),
        ("Q?\nA. a\nB. b\nC. c\nD. d\nANSWER: E", 6, "ANSWER: E is not one of the options A-D"),
        ("Q?\nA. a\nB. b\nC. c\nD. d\nANSWER: A, C", 6, "names one option letter"),
        ("Q?\nA. a\nB. b\nC. c\nD. d\n", 1, "no ANSWER: line"),
        ("Q?\nA. a\nmore text\nB. b\nANSWER: A", 3, "a text line among the options"),
        ("A. a\nB. b\nANSWER: A", 1, "an option before any question text"),
        ("Q?\nANSWER: A", 2, "before any option"),
        ("Q?\nA. a\nB. b\nC. c\nANSWER: A", 1, "exactly 4 options and 1 correct (has 3, 1)"),
    ],
)
def test_aiken_errors_name_their_line(text, line, reason):
    result = aiken.parse(text, defaults=DEFAULTS)
    assert [p.line for p in result.errors] == [line] and reason in result.errors[0].reason


def test_aiken_export_skips_multiple_response_and_says_how_many():
    result = aiken.export([native_question(), multiple_question(), multiple_question(key="another-multiple")])
    assert result.exported == 1 and len(result.skipped) == 2
    assert all("multiple response: Aiken has one correct answer" in r for r in reasons(result.skipped))
    assert result.text.splitlines()[1:] == [
        "A. Roll back = and retry {now}.",
        "B. Wait~and see.",
        "C. Delete the stack\\group.",
        "D. Open a ticket: later.",
        "ANSWER: A",
    ]


# --- Moodle XML --------------------------------------------------------------------------------------------------

XML_FIXTURE = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
  <question type="category">
    <category><text>$course$/top/DevOps</text></category>
  </question>
  <question type="multichoice">
    <name><text>Blue green</text></name>
    <questiontext format="html">
      <text><![CDATA[<p>A team runs <b>blue/green</b> &amp; canary.</p><p>Which is right?<br>Pick one.</p>
      <table><tr><td>cell</td></tr></table>]]></text>
    </questiontext>
    <generalfeedback format="html"><text>&lt;p&gt;Because &amp;lt;reasons&amp;gt;.&lt;/p&gt;</text></generalfeedback>
    <single>true</single>
    <answer fraction="100" format="html"><text>&lt;p&gt;Shift&amp;nbsp;traffic&lt;/p&gt;</text>
      <feedback format="html"><text>Right.</text></feedback></answer>
    <answer fraction="0" format="plain_text"><text>Literal &lt;p&gt; stays</text>
      <feedback format="html"><text>No.</text></feedback></answer>
    <answer fraction="0"><text>Third</text></answer>
    <answer fraction="0"><text>Fourth</text></answer>
  </question>
  <question type="multichoice">
    <name><text>Many</text></name>
    <idnumber>xml-many</idnumber>
    <questiontext format="plain_text"><text>Which two?</text></questiontext>
    <single>false</single>
    <answer fraction="50"><text>a</text></answer>
    <answer fraction="50"><text>b</text></answer>
    <answer fraction="-100"><text>c</text></answer>
    <answer fraction="-100"><text>d</text></answer>
    <answer fraction="0"><text>e</text></answer>
    <tags><tag><text>domain-4</text></tag><tag><text>task-4.1</text></tag></tags>
  </question>
  <question type="truefalse">
    <name><text>TF</text></name>
  </question>
  <question type="shortanswer"><name><text>SA</text></name></question>
  <question type="multichoice">
    <name><text>Bad fraction</text></name>
    <questiontext format="plain_text"><text>Q</text></questiontext>
    <answer fraction="lots"><text>a</text></answer>
  </question>
</quiz>
"""


def test_moodle_xml_reads_multichoice_html_fractions_feedback_and_skips_other_types():
    result = moodle_xml.parse(XML_FIXTURE.encode(), source="quiz.xml", defaults=DEFAULTS)
    single = next(q for q in result.questions if q["key"] == "blue-green")
    assert single["stem"] == "A team runs blue/green & canary.\n\nWhich is right?\nPick one.\n\ncell"
    assert "<" not in single["stem"]
    assert single["explanation"] == "Because <reasons>."
    assert single["options"][0] == {"text": "Shift traffic", "correct": True, "rationale": "Right."}
    assert single["options"][1]["text"] == "Literal <p> stays"  # plain_text is kept as written
    assert single["__category__"] == "$course$/top/DevOps"
    assert any("dropped markup: table" in r for r in reasons(result.warnings))
    many = next(q for q in result.questions if q["key"] == "xml-many")
    assert many["type"] == "multiple" and [bool(o.get("correct")) for o in many["options"]] == [1, 1, 0, 0, 0]
    assert (many["domain"], many["task"], many["topic"]) == (4, "4.1", "imported")
    assert [(p.line, p.reason) for p in result.skipped] == [
        (33, "TF: type 'truefalse': only multichoice is imported"),
        (36, "SA: type 'shortanswer': only multichoice is imported"),
    ]
    assert [(p.line, p.reason) for p in result.errors] == [(40, "answer fraction 'lots' is not a number")]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<quiz><question type="multichoice"><questiontext><text>&lol3;</text></questiontext></question></quiz>"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE quiz [<!ENTITY secret SYSTEM "file:///etc/passwd">]><quiz><x>&secret;</x></quiz>"""
ENTITY_NO_DTD = '<?xml version="1.0"?>\n<quiz>\n<x>&undefined;</x></quiz>'


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL, "DTD"),
        (ENTITY_NO_DTD, "malformed XML"),
        ("<quiz><question>", "malformed XML"),
        ('<?xml version="1.0" encoding="ISO-8859-1"?><quiz/>', "save it as UTF-8"),
        ("<html/>", "Moodle XML has <quiz>"),
    ],
)
def test_moodle_xml_refuses_hostile_and_malformed_files(text, reason):
    with pytest.raises(formats.FormatError) as caught:
        moodle_xml.parse(text.encode(), source="evil.xml")
    assert reason in str(caught.value) and caught.value.problems[0].line >= 1


def test_moodle_xml_entity_error_names_its_line():
    with pytest.raises(formats.FormatError) as caught:
        moodle_xml.parse(ENTITY_NO_DTD)
    assert caught.value.problems[0].line == 3


def test_moodle_xml_export_is_valid_escaped_plain_text():
    question = native_question(stem=STEM + " Use <p> & </text> here.")
    text = moodle_xml.export([question, multiple_question()]).text
    root = DET.fromstring(text.encode())
    first = root.find("question")
    assert first.get("type") == "multichoice" and first.find("questiontext").get("format") == "plain_text"
    assert first.findtext("questiontext/text").endswith("Use <p> & </text> here.")
    assert "&lt;p&gt; &amp; &lt;/text&gt;" in text
    assert [a.get("fraction") for a in root.findall("question")[1].findall("answer")] == [
        "50",
        "-100",
        "-100",
        "50",
        "-100",
    ]
    assert first.findtext("single") == "true" and first.findtext("idnumber") == "d2-sample-question"


# --- CSV ---------------------------------------------------------------------------------------------------------

CSV_HEADER = (
    "key,domain,task,topic,notes,type,stem,option_1,option_2,option_3,option_4,correct,rationale_1,explanation\n"
)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_csv_reads_rows_with_or_without_bom(bom):
    row = 'csv-one,1,1.1,codebuild,a-01;b-02,,"Stem, with comma",w,x,y,z,2,why,because\n'
    result = csv_format.parse(bom + (CSV_HEADER + row).encode(), source="q.csv", defaults=DEFAULTS)
    (question,) = result.questions
    assert question["key"] == "csv-one" and question["notes"] == ["a-01", "b-02"] and question["type"] == "single"
    assert question["stem"] == "Stem, with comma" and question["options"][1] == {
        "text": "x",
        "correct": True,
        "rationale": "",
    }
    assert question["options"][0]["rationale"] == "why" and question["domain"] == 1


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",,,,,,S,a,,c,d,1,,\n", "without a gap"),
        (",,,,,,S,a,b,c,d,5,,\n", "correct lists option numbers 1-4"),
        (",,,,,,S,a,b,c,d,,,\n", "correct is empty"),
        (",x,,,,,S,a,b,c,d,1,,\n", "domain is a number"),
        (",,,,,maybe,S,a,b,c,d,1,,\n", "type is single or multiple"),
        ("Bad Key!,,,,,,S,a,b,c,d,1,,\n", "keys are 3-81 lowercase"),
        (",,,,,,S,a,b,c,d,1;2,,\n", "a multiple-response question has 5-6 options"),
    ],
)
def test_csv_errors_name_their_row(row, reason):
    result = csv_format.parse(CSV_HEADER + "ok-row,,,,,,S,a,b,c,d,1,,\n" + row, defaults=DEFAULTS)
    assert {p.line for p in result.errors} == {3} and reason in result.errors[0].reason
    assert result.errors[0].reason.startswith(("row 3: ", "q-"))


def test_csv_header_must_name_the_required_columns():
    with pytest.raises(formats.FormatError, match="lacks the column"):
        csv_format.parse("key,stem\nx,y\n")


def test_csv_export_neutralises_formulas_and_reads_back_the_same_text():
    question = native_question(stem='=HYPERLINK("http://evil") Two. Three.')
    question["options"][1]["text"] = "+1 option"
    question["options"][2]["text"] = "-2 option"
    question["options"][3]["text"] = "@SUM(A1) option"
    question["options"][0]["rationale"] = "'=already quoted"
    text = csv_format.export([question]).text
    assert text.startswith("\ufeff")
    cells = next(iter(__import__("csv").reader(text.lstrip("\ufeff").splitlines()[1:])))
    assert cells[6].startswith("'=") and cells[8] == "'+1 option" and cells[9] == "'-2 option"
    assert cells[10] == "'@SUM(A1) option" and cells[14] == "''=already quoted"
    (back,) = csv_format.parse(text, defaults=DEFAULTS).questions
    assert formats.clean(back) == question


# --- limits, keys, defaults, all-or-nothing ----------------------------------------------------------------------


@pytest.mark.parametrize("name", PARSERS)
def test_every_format_refuses_big_long_lined_and_non_utf8_files(name):
    parser = PARSERS[name]
    with pytest.raises(formats.FormatError, match="the limit is 5,242,880"):
        parser.parse(b"x" * (formats.MAX_BYTES + 1))
    with pytest.raises(formats.FormatError, match="line is 100,001 characters") as caught:
        parser.parse(b"ok\n" + b"y" * 100_001)
    assert caught.value.problems[0].line == 2
    with pytest.raises(formats.FormatError, match="not UTF-8") as caught:
        parser.parse(b"fine\nfine\n\xff\xfe bad")
    assert caught.value.problems[0].line == 3


@pytest.mark.parametrize(
    ("name", "one"),
    [
        ("gift", "::q{n}::S {{=a ~b ~c ~d}}\n\n"),
        ("aiken", "S{n}\nA. a\nB. b\nC. c\nD. d\nANSWER: A\n"),
        ("moodle-xml", '<question type="essay"><name><text>{n}</text></name></question>\n'),
        ("csv", "q{n},,,,,,S,a,b,c,d,1,,\n"),
    ],
)
def test_every_format_refuses_more_than_2000_questions(name, one):
    body = "".join(one.format(n=n) for n in range(formats.MAX_QUESTIONS + 1))
    text = {"moodle-xml": f"<quiz>{body}</quiz>", "csv": CSV_HEADER + body}.get(name, body)
    with pytest.raises(formats.FormatError, match="more than 2,000"):
        PARSERS[name].parse(text)


def test_100000_tiny_questions_are_refused_quickly():
    with pytest.raises(formats.FormatError, match="more than 2,000"):
        gift.parse("a{}\n\n" * 100_000)


def test_keys_come_from_id_then_title_then_a_stable_hash_and_must_be_unique():
    text = (
        "// [id:Q-001]\n::Some Title::S {=a ~b ~c ~d}\n\n::Some Title::S {=a ~b ~c ~d}\n\n"
        "Plain stem {=a ~b ~c ~d}\n\n::!!::Plain stem {=a ~b ~c ~d}\n"
    )
    result = gift.parse(text, defaults=DEFAULTS)
    assert [q["key"] for q in result.questions] == ["q-001", "some-title", formats.stem_key("Plain stem")] * 1 + [
        formats.stem_key("Plain stem")
    ]
    assert formats.stem_key("Plain stem") == formats.stem_key("Plain stem")
    assert reasons(result.errors) == [
        f"key '{formats.stem_key('Plain stem')}' is already used by the question at <gift>:6"
    ]


def test_questions_without_placement_cannot_become_native():
    result = aiken.parse(AIKEN_FIXTURE)
    problems = formats.placement_problems(result.questions)
    assert (
        len(problems) == 2
        and "no domain, task, topic" in problems[0].reason
        and "--domain --task --topic" in problems[0].reason
    )
    assert not formats.placement_problems(aiken.parse(AIKEN_FIXTURE, defaults=DEFAULTS).questions)


def test_bad_defaults_are_errors():
    result = aiken.parse(AIKEN_FIXTURE, defaults=formats.Defaults(domain=1, task="one", topic="Not A Slug"))
    assert any("task must look like 1.2" in r for r in reasons(result.errors))
    assert any("topic must be a slug" in r for r in reasons(result.errors))


def test_native_folder_is_checked_against_its_bank(tmp_path, shipped):
    result = shipped
    assert len(result.questions) == 450 and not result.errors and not result.warnings
    bad = tmp_path / "q.yaml"
    bad.write_text("questions:\n  - key: x\n    options: []\n  - &a {key: y}\n  - *a\n")
    with pytest.raises(formats.FormatError, match="aliases"):
        formats.read_native(bad)


# --- the command -------------------------------------------------------------------------------------------------


def test_convert_bank_writes_native_with_defaults(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(AIKEN_FIXTURE)
    out = tmp_path / "out" / "questions.yaml"
    call_command(
        "convert_bank", str(source), "--from", "aiken", "--to", "native", "--output", str(out),
        "--domain", "2", "--task", "2.1", "--topic", "imported",
    )  # fmt: skip
    questions = bankfile.parse_yaml(out.read_text())["questions"]
    assert [bankfile.strip_lines(q)["domain"] for q in questions] == [2, 2]


def test_convert_bank_fails_and_writes_nothing_on_any_error(tmp_path, capsys):
    source = tmp_path / "in.gift"
    source.write_text(GIFT_FIXTURE)
    out = tmp_path / "out.xml"
    with pytest.raises(CommandError) as caught:
        call_command("convert_bank", str(source), "--from", "gift", "--to", "moodle-xml", "--output", str(out))
    assert not out.exists()
    assert "Nothing was written: 1 error(s)." in str(caught.value)
    assert "in.gift:36: three-options: a single-answer question has exactly 4 options" in str(caught.value)
    printed = capsys.readouterr().out
    assert "Skipped 6 question(s)" in printed and "in.gift:24: Numeric: a numerical question" in printed


def test_convert_bank_without_placement_to_native_fails(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(AIKEN_FIXTURE)
    with pytest.raises(CommandError, match="give --domain --task --topic"):
        call_command("convert_bank", str(source), "--from", "aiken", "--to", "native", "--output", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_convert_bank_refused_file_says_why(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"stem\n\xff")
    with pytest.raises(CommandError, match="in.csv:2: the file is not UTF-8"):
        call_command("convert_bank", str(source), "--from", "csv", "--to", "gift", "--output", str(tmp_path / "o"))


def test_convert_bank_reports_what_the_target_cannot_express(tmp_path, capsys, shipped):
    out = tmp_path / "bank.aiken"
    call_command("convert_bank", str(SHIPPED), "--from", "native", "--to", "aiken", "--output", str(out))
    printed = capsys.readouterr().out
    multiple = sum(1 for q in shipped.questions if q["type"] == "multiple")
    assert f"Skipped {multiple} question(s) that aiken cannot express (of 450)" in printed
    assert f"Wrote {450 - multiple} question(s)" in printed


@pytest.mark.parametrize("fmt", ["gift", "moodle-xml", "csv", "native"])
def test_shipped_bank_round_trips_through_every_format(tmp_path, fmt, shipped):
    original = {q["key"]: formats.clean(q) for q in shipped.questions}
    exported = formats.export(list(original.values()), fmt)
    path = tmp_path / f"bank.{fmt}"
    path.write_text(exported.text, encoding="utf-8", newline="")
    back = formats.read_file(path, fmt)
    assert not back.errors and not exported.skipped
    expected = [project(q, fmt) for q in original.values()]
    assert [project(q, fmt) for q in back.questions] == expected


# --- properties (hypothesis) -------------------------------------------------------------------------------------

SPECIAL = list("~=#{}:\\\n%->[]'+@;,.() ") + ["->", "::", "####", "\\n", "[html]", "<p>", "&amp;", "ANSWER: A", "A. "]
pieces = st.one_of(
    st.sampled_from(SPECIAL), st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=6)
)
texts = st.lists(pieces, min_size=1, max_size=8).map("".join).map(str.strip).filter(bool)
slugs = st.from_regex(r"[a-z0-9][a-z0-9-]{2,20}", fullmatch=True)


@st.composite
def questions(draw):
    kind = draw(st.sampled_from(["single", "multiple"]))
    count = 4 if kind == "single" else draw(st.integers(5, 6))
    correct_count = 1 if kind == "single" else draw(st.integers(2, 3))
    option_texts = draw(st.lists(texts, min_size=count, max_size=count, unique_by=str.strip))
    correct = set(draw(st.permutations(range(count)))[:correct_count])
    stem = draw(texts.filter(lambda t: "Choose" not in t))
    if kind == "multiple":
        stem = f"{stem} {formats.choose_suffix(correct_count)}"
    domain = draw(st.integers(1, 9))
    question = {
        "key": draw(slugs),
        "domain": domain,
        "task": f"{domain}.{draw(st.integers(1, 9))}",
        "topic": draw(slugs),
        "notes": draw(st.lists(slugs, max_size=3)),
        "type": kind,
        "stem": stem,
        "options": [
            {"text": t, **({"correct": True} if i in correct else {}), "rationale": draw(st.one_of(st.just(""), texts))}
            for i, t in enumerate(option_texts)
        ],
        "explanation": draw(st.one_of(st.just(""), texts)),
    }
    if draw(st.booleans()):
        question["references"] = [f"https://docs.aws.amazon.com/{draw(slugs)}/page.html"]
    return question


def project(question: dict, fmt: str) -> dict:
    """What a round trip through the format keeps: every field the format can express."""
    question = formats.clean(question)
    if fmt in ("native", "csv"):
        return question
    if fmt in ("gift", "moodle-xml"):
        return {k: v for k, v in question.items() if k != "references"}
    return {
        "type": question["type"],
        "stem": "\n".join(line.strip() for line in question["stem"].split("\n") if line.strip()),
        "options": [(o["text"], bool(o.get("correct"))) for o in question["options"]],
    }


ROUND_TRIP_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", ["native", "gift", "aiken", "moodle-xml", "csv"])
@ROUND_TRIP_SETTINGS
@given(question=questions())
def test_round_trip_keeps_every_field_the_format_expresses(fmt, question):
    module = PARSERS.get(fmt)
    reason = module.unsupported(question) if module else None
    assume(reason is None)
    exported = formats.export([question], fmt)
    assert exported.exported == 1
    parse = module.parse if module else formats.parse_native
    back = parse(exported.text, defaults=DEFAULTS)
    if not module:
        formats.check_questions(back)
    assert not back.errors, back.errors
    assert not back.skipped
    (read,) = back.questions
    assert project(read, fmt) == project(question, fmt)


def all_problems_are_located(result):
    for problem in result.errors + result.skipped + result.warnings:
        assert isinstance(problem.line, int) and problem.line >= 1 and problem.reason


FUZZ_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PARSE = {**{name: module.parse for name, module in PARSERS.items()}, "native": formats.parse_native}


@pytest.mark.parametrize("fmt", PARSE)
@FUZZ_SETTINGS
@given(data=st.one_of(st.text(max_size=400), st.binary(max_size=400), st.lists(pieces, max_size=60).map("".join)))
def test_random_input_gives_a_result_or_the_format_error(fmt, data):
    try:
        result = PARSE[fmt](data, defaults=DEFAULTS)
    except formats.FormatError as error:
        assert error.problems and all(p.line >= 1 for p in error.problems)
    else:
        all_problems_are_located(result)


@pytest.mark.parametrize("fmt", PARSE)
@FUZZ_SETTINGS
@given(question=questions(), edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 2), pieces), max_size=6))
def test_mutated_exports_give_a_result_or_the_format_error(fmt, question, edits):
    text = formats.export([question, multiple_question()], fmt).text
    for where, action, piece in edits:
        at = int(where * len(text))
        text = {0: text[:at] + piece + text[at:], 1: text[:at] + text[at + len(piece) :], 2: text[:at] + piece}[action]
    try:
        result = PARSE[fmt](text, defaults=DEFAULTS)
    except formats.FormatError as error:
        assert error.problems and all(p.line >= 1 for p in error.problems)
    else:
        all_problems_are_located(result)


def test_html_to_text_keeps_breaks_drops_tags_decodes_entities():
    text, dropped = formats.html_to_text(
        "<div>a&nbsp;&lt;b&gt;</div><ul><li>one</li><li>two</li></ul><script>x()</script>"
    )
    assert text == "a <b>\n\none\ntwo"
    assert "x()" not in text and "script" in dropped
    assert not re.search(r"<(p|div|li)>", text)
