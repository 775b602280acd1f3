"""Every URL pattern of the app, walked as anonymous, a learner, an instructor who is not an editor, an editor and
the owner: each refusal is a 404 or a login redirect and changes nothing in the database.

The walk reads the URLconf, so a new route without an expectation here fails the test. (Django's own admin is
staff-only and tested by Django; its patterns are the one exclusion.)
"""

import hashlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from quizapp.bank import editing
from quizapp.bank.models import Bank, ImportDraft, Note, Question
from quizapp.exams import services
from quizapp.groups import services as group_services
from tests.factories import UserFactory
from tests.studio.helpers import domain_one_exam, instructor, new_bank, question_post

pytestmark = pytest.mark.django_db

# For a study group the same people play: learner = a member, stranger = a learner outside the group,
# outsider = an instructor of another group, editor = a co-instructor, owner = the group's owner.
ROLES = ("anonymous", "learner", "stranger", "outsider", "editor", "owner")
OK, LOGIN, NOT_FOUND = "ok", "login", 404
PUBLIC = dict.fromkeys(ROLES, OK)
SIGNED_IN = {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], OK)}


def only(*roles):
    """Signed-in people other than `roles` get 404; anonymous visitors are sent to log in."""
    return {"anonymous": LOGIN, **{role: OK if role in roles else NOT_FOUND for role in ROLES[1:]}}


LEARNERS_OWN = only("learner")
INSTRUCTORS = only("outsider", "editor", "owner")
BANK_EDITORS = only("editor", "owner")
BANK_OWNER = only("owner")
GROUP_MEMBER = only("learner")
GROUP_PEOPLE = only("learner", "editor", "owner")
GROUP_TEACHERS = only("editor", "owner")
GROUP_OWNER = only("owner")

# name -> (who may, methods to try, which objects the URL names)
EXPECTATIONS = {
    "home": (PUBLIC, ["GET"], None),
    "history": (SIGNED_IN, ["GET"], None),
    "progress:history_csv": (SIGNED_IN, ["GET"], None),
    "progress:review": (SIGNED_IN, ["GET", "POST"], None),
    "progress:smart_drill": (SIGNED_IN, ["GET", "POST"], None),
    "progress:domain_drill": (SIGNED_IN, ["GET", "POST"], "domain"),
    "progress:topic_drill": (SIGNED_IN, ["GET", "POST"], "topic"),
    "progress:notes": (SIGNED_IN, ["GET"], None),
    "progress:note_drill": (SIGNED_IN, ["GET", "POST"], "note"),
    "accounts:signup": ({**PUBLIC}, ["GET"], None),
    "accounts:login": (PUBLIC, ["GET"], None),
    "accounts:logout": (PUBLIC, ["POST"], None),
    "accounts:password_change": (SIGNED_IN, ["GET", "POST"], None),
    "accounts:settings": (SIGNED_IN, ["GET", "POST"], None),
    "accounts:password_change_done": (SIGNED_IN, ["GET"], None),
    "privacy:data": (SIGNED_IN, ["GET"], None),
    "privacy:download": (SIGNED_IN, ["GET"], None),
    "privacy:delete": (SIGNED_IN, ["GET", "POST"], None),
    "accounts:password_reset": (PUBLIC, ["GET"], None),
    "accounts:password_reset_done": (PUBLIC, ["GET"], None),
    "accounts:password_reset_confirm": (PUBLIC, ["GET"], "reset"),
    "accounts:password_reset_complete": (PUBLIC, ["GET"], None),
    "exams:catalogue": (SIGNED_IN, ["GET"], None),
    "exams:blueprint": (SIGNED_IN, ["GET"], "blueprint"),
    "exams:attempt": (LEARNERS_OWN, ["GET"], "open"),
    "exams:question": (LEARNERS_OWN, ["GET"], "open-question"),
    "exams:answer": (LEARNERS_OWN, ["POST"], "open-question"),
    "exams:flag": (LEARNERS_OWN, ["POST"], "open-question"),
    "exams:check": (LEARNERS_OWN, ["POST"], "open-question"),
    "exams:status": (LEARNERS_OWN, ["GET"], "open"),
    "exams:pack": (LEARNERS_OWN, ["GET"], "open"),
    "exams:review": (LEARNERS_OWN, ["GET"], "open"),
    "exams:submit": (LEARNERS_OWN, ["POST"], "open"),
    "exams:result": (LEARNERS_OWN, ["GET"], "finished"),
    "exams:answers": (LEARNERS_OWN, ["GET"], "finished"),
    "exams:report": (LEARNERS_OWN, ["GET", "POST"], "finished-question"),
    "studio:home": (INSTRUCTORS, ["GET"], None),
    "studio:bank_create": (INSTRUCTORS, ["GET"], None),
    "studio:bank": (BANK_EDITORS, ["GET"], "bank"),
    "studio:bank_settings": (BANK_OWNER, ["GET", "POST"], "bank"),
    "studio:bank_editors": (BANK_OWNER, ["GET", "POST"], "bank"),
    "studio:bank_audit": (BANK_OWNER, ["GET"], "bank"),
    "studio:question_create": (BANK_EDITORS, ["GET", "POST"], "bank"),
    "studio:question": (BANK_EDITORS, ["GET"], "bank-question"),
    "studio:question_edit": (BANK_EDITORS, ["GET", "POST"], "bank-question"),
    "studio:question_status": (BANK_EDITORS, ["POST"], "bank-question"),
    "studio:question_history": (BANK_EDITORS, ["GET"], "bank-question"),
    "studio:blueprints": (BANK_EDITORS, ["GET"], "bank"),
    "studio:blueprint_create": (BANK_EDITORS, ["GET", "POST"], "bank"),
    "studio:blueprint_edit": (BANK_EDITORS, ["GET", "POST"], "bank-blueprint"),
    "studio:analysis": (BANK_EDITORS, ["GET"], "bank"),
    "studio:import": (BANK_EDITORS, ["GET", "POST"], "bank"),
    "studio:import_preview": (BANK_OWNER, ["GET", "POST"], "bank-draft"),  # only the uploader sees an upload
    "studio:export": (BANK_EDITORS, ["GET"], "bank"),
    "studio:reports": (BANK_EDITORS, ["GET"], "bank"),
    "studio:report_close": (BANK_EDITORS, ["POST"], "bank-report"),
    "groups:home": (SIGNED_IN, ["GET"], None),
    "groups:create": (INSTRUCTORS, ["GET", "POST"], None),
    "groups:join": (SIGNED_IN, ["GET"], None),
    "groups:invite": (SIGNED_IN, ["GET"], "invite"),
    "groups:detail": (GROUP_PEOPLE, ["GET"], "group"),
    "groups:leave": (GROUP_MEMBER, ["POST"], "group"),
    "groups:opt_in": (GROUP_MEMBER, ["POST"], "group"),
    "groups:settings": (GROUP_OWNER, ["GET", "POST"], "group"),
    "groups:rotate": (GROUP_OWNER, ["POST"], "group"),
    "groups:instructors": (GROUP_OWNER, ["GET", "POST"], "group"),
    "groups:audit": (GROUP_OWNER, ["GET"], "group"),
    "groups:instructor_remove": (GROUP_OWNER, ["POST"], "group-instructor"),
    "groups:members": (GROUP_TEACHERS, ["GET"], "group"),
    "groups:member": (GROUP_TEACHERS, ["GET", "POST"], "group-member"),
    "groups:member_remove": (GROUP_TEACHERS, ["POST"], "group-member"),
    "groups:results": (GROUP_TEACHERS, ["GET"], "group"),
    "groups:results_csv": (GROUP_TEACHERS, ["GET"], "group"),
    "groups:assignment_create": (GROUP_TEACHERS, ["GET", "POST"], "group"),
    "groups:assignment": (GROUP_PEOPLE, ["GET"], "assignment"),
    "groups:assignment_edit": (GROUP_TEACHERS, ["GET", "POST"], "assignment"),
    "groups:assignment_start": (GROUP_MEMBER, ["POST"], "assignment"),
    "groups:debrief": (GROUP_TEACHERS, ["GET"], "assignment"),
    "groups:sitting_open": (GROUP_TEACHERS, ["POST"], "assignment"),
    "groups:proctor": (GROUP_TEACHERS, ["GET"], "sitting"),
    "groups:proctor_poll": (GROUP_TEACHERS, ["GET"], "sitting"),
    "groups:sitting_start": (GROUP_TEACHERS, ["POST"], "sitting"),
    "groups:sitting_end": (GROUP_TEACHERS, ["POST"], "sitting"),
    "groups:seat_extend": (GROUP_TEACHERS, ["POST"], "sitting"),
    "groups:seat_close": (GROUP_TEACHERS, ["POST"], "sitting"),
    "groups:lobby": (GROUP_MEMBER, ["GET"], "sitting"),
    "groups:lobby_poll": (GROUP_MEMBER, ["GET"], "sitting"),
    "audit:events": (only(), ["GET"], None),  # staff only: none of the six roles is staff
}


def url_names(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            namespace = entry.namespace
            if namespace == "admin":
                continue
            yield from url_names(entry.url_patterns, f"{prefix}{namespace}:" if namespace else prefix)
        elif isinstance(entry, URLPattern) and entry.name:
            yield prefix + entry.name


@pytest.fixture
def world():
    """A bank with an owner and an editor, an outsider instructor, and a learner with open and finished attempts."""
    owner, editor, outsider = instructor("owner"), instructor("editor"), instructor("outsider")
    learner = UserFactory(username="learner")
    bank = new_bank(owner)
    bank.editors.add(editor)
    studio = Client()
    studio.force_login(owner)
    studio.post(reverse("studio:question_create", args=[bank.slug]), question_post())
    question = Question.objects.get(bank=bank)
    editing.question_set_status(question=question, status=Question.Status.PUBLISHED)
    editing.bank_update(bank=bank, title=bank.title, description="", status=Bank.Status.PUBLISHED)
    blueprint = domain_one_exam(bank, title="One", mode="timed", duration_minutes=10)
    practice = domain_one_exam(bank, slug="drill", title="Drill")
    finished = services.attempt_start(user=learner, blueprint=practice, now=timezone.now())
    services.attempt_finish(attempt_id=finished.pk, now=timezone.now())
    open_attempt = services.attempt_start(user=learner, blueprint=blueprint, now=timezone.now())
    report = editing.report_create(version=question.current_version, reporter=learner, kind="unclear", text="?")
    draft = ImportDraft.objects.create(
        bank=bank, uploaded_by=owner, file_name="q.gift", file_format="gift", content=b"::T::Q{=a ~b ~c ~d}"
    )
    note = Note.objects.create(bank=bank, key="walk-01", heading="Walk", text="a note", position=1)
    question.current_version.notes.add(note)
    group = group_services.group_create(owner=owner, name="Cohort")
    group_services.co_instructor_add(group=group, username=editor.username)
    group_services.group_join(user=learner, group=group)
    group_services.group_create(owner=outsider, name="Another cohort")
    now = timezone.now()
    assignment = group_services.assignment_create(
        group=group,
        blueprint=blueprint,
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(hours=2),
        attempt_limit=2,
        review_policy="after_submit",
    )
    sitting = group_services.sitting_open(assignment=assignment, now=now)
    users = {
        "learner": learner,
        "stranger": UserFactory(username="stranger"),
        "outsider": outsider,
        "editor": editor,
        "owner": owner,
    }
    args = {
        None: [],
        "reset": ["MQ", "set-password"],
        "blueprint": [bank.slug, blueprint.slug],
        "open": [open_attempt.pk],
        "open-question": [open_attempt.pk, 1],
        "finished": [finished.pk],
        "finished-question": [finished.pk, 1],
        "bank": [bank.slug],
        "bank-question": [bank.slug, question.key],
        "bank-blueprint": [bank.slug, blueprint.slug],
        "bank-report": [bank.slug, report.pk],
        "bank-draft": [bank.slug, draft.pk],
        "invite": [group.invite_token],
        "group": [group.pk],
        "group-member": [group.pk, learner.pk],
        "group-instructor": [group.pk, editor.pk],
        "assignment": [group.pk, assignment.pk],
        "sitting": [group.pk, assignment.pk, sitting.pk],
        "domain": [bank.domains.first().pk],
        "topic": [bank.topics.first().pk],
        "note": [note.pk],
    }
    return users, args


def database_fingerprint():
    """Row counts and a digest of every row of the app's own tables (and users)."""
    digest = hashlib.sha256()
    for model in apps.get_models():
        if model._meta.app_label not in {"accounts", "audit", "bank", "exams", "progress", "studio", "study_groups"}:
            continue
        rows = list(model.objects.order_by("pk").values_list())
        digest.update(f"{model._meta.label}:{len(rows)}:{rows!r}".encode())
    return digest.hexdigest()


def test_every_route_has_an_expectation():
    assert sorted(set(url_names()) - set(EXPECTATIONS)) == [], "add the new route to EXPECTATIONS"
    assert sorted(set(EXPECTATIONS) - set(url_names())) == []


def test_every_refusal_is_a_404_or_a_login_redirect_and_changes_nothing(world):
    users, args = world
    login_url = reverse("accounts:login")
    failures = []
    for name in url_names():
        allowed, methods, objects = EXPECTATIONS[name]
        url = reverse(name, args=args[objects])
        for role in ROLES:
            client = Client()
            if role != "anonymous":
                client.force_login(users[role])
            expected = allowed[role]
            for method in methods:
                if expected == OK and method == "POST":
                    continue  # what an allowed POST does is each feature's own test
                before = database_fingerprint() if expected != OK else None
                response = client.generic(method, url)
                status = response.status_code
                if expected == OK:
                    ok = status < 500 and status != 404 and not response.get("Location", "").startswith(login_url)
                elif expected == LOGIN:
                    ok = status == 302 and response["Location"].startswith(login_url)
                else:
                    ok = status == 404
                if expected != OK and database_fingerprint() != before:
                    failures.append(f"{method} {name} as {role}: refused but the database changed")
                if not ok:
                    failures.append(f"{method} {name} as {role}: {status}, expected {expected}")
    assert failures == []
