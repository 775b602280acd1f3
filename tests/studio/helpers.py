"""Shared steps of the studio tests: an instructor's bank, and the question form's POST data."""

from quizapp.bank import editing
from tests.factories import BlueprintFactory, UserFactory


def instructor(username="ines"):
    return UserFactory(username=username, role="instructor")


def new_bank(owner, title="Pipeline practice"):
    return editing.bank_create(owner=owner, title=title)


def domain_one_exam(bank, *, slug="one", question_count=1, **fields):
    """An untimed exam of `bank` that draws only from domain 1, where the tests write their questions."""
    fields = {"mode": "practice", "duration_minutes": None, **fields}
    return BlueprintFactory(bank=bank, slug=slug, question_count=question_count, domain_weights={"1": 1}, **fields)


EXPLANATION = (
    "CodeDeploy's canary configuration shifts a small share of traffic to the new Lambda version first and the "
    "rest after the interval, and it rolls back automatically when an alarm fires. All-at-once moves everything at "
    "once, linear moves in equal steps over a longer time, and a manual alias update has no alarm rollback at all."
)


def question_post(*, domain=1, task="1.4", topic="deployment", kind="single", stem=None, options=None, **extra):
    """The question form as a browser posts it; `options` is a list of (text, correct, rationale)."""
    stem = stem or (
        "A team deploys a Lambda function with CodeDeploy. It wants 10 percent of traffic on the new version for "
        "ten minutes before the rest, with automatic rollback. Which deployment configuration fits?"
    )
    options = options or [
        ("Canary10Percent10Minutes", True, "Ten percent first, the rest after ten minutes."),
        ("AllAtOnce", False, "Shifts everything at once."),
        ("Linear10PercentEvery10Minutes", False, "Takes ten steps, not two."),
        ("A manual alias update", False, "No automatic rollback."),
    ]
    data = {
        "domain": str(domain),
        "task": task,
        "topic": topic,
        "kind": kind,
        "stem": stem,
        "explanation": EXPLANATION,
        "notes": "",
        "references": "https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html",
        "options-TOTAL_FORMS": str(len(options)),
        "options-INITIAL_FORMS": "0",
        "options-MIN_NUM_FORMS": "0",
        "options-MAX_NUM_FORMS": "6",
    }
    for i, (text, correct, rationale) in enumerate(options):
        data[f"options-{i}-text"] = text
        data[f"options-{i}-rationale"] = rationale
        if correct:
            data[f"options-{i}-correct"] = "on"
    data.update(extra)
    return data
