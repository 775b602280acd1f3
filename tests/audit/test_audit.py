"""The audit trail (issue 12): each privileged action leaves exactly one event with its actor, address, scope and
detail; no event can be changed; staff, a bank's owner and a group's owner read only their part."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from quizapp import audit
from quizapp.audit.models import AuditEvent, EventImmutable
from quizapp.bank import editing, formats, importing
from quizapp.bank.models import Bank, Question
from quizapp.exams import services as exam_services
from quizapp.groups import services
from quizapp.groups.models import Membership
from tests.factories import AssignmentFactory, BlueprintFactory, MembershipFactory, StudyGroupFactory, UserFactory
from tests.studio.helpers import EXPLANATION, instructor, new_bank, question_post

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"


def client_for(user, ip=IP):
    client = Client(REMOTE_ADDR=ip)
    client.force_login(user)
    return client


class Trail:
    """The events written since it was made."""

    def __init__(self):
        self.since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def new(self):
        return list(AuditEvent.objects.filter(pk__gt=self.since).order_by("pk"))

    def one(self, action):
        """The one event the step wrote; fails if it wrote none, several, or another action."""
        events = self.new()
        assert [e.action for e in events] == [action]
        self.since = events[0].pk
        return events[0]


def assert_event(event, *, actor, ip=IP, bank_id=None, group_id=None, detail=None):
    assert event.actor_id == (actor.pk if actor else None)
    assert event.actor_name == (actor.username if actor else event.actor_name)
    assert event.ip == ip and event.bank_id == bank_id and event.group_id == group_id
    if detail is not None:
        assert {k: event.detail.get(k) for k in detail} == detail
    assert event.summary


# --- What is recorded -----------------------------------------------------------------------------------------


def test_role_grants_from_the_command_record_manage_py_and_no_address():
    user = UserFactory(username="rae")
    trail = Trail()
    call_command("grant_instructor", "rae", stdout=StringIO())
    event = trail.one("role.grant")
    assert event.actor is None and event.actor_name.startswith("manage.py (") and event.ip is None
    assert event.detail == {"role": ["learner", "instructor"]}
    assert (event.target_type, event.target_id) == ("accounts.user", str(user.pk))
    call_command("grant_instructor", "rae", stdout=StringIO())  # already an instructor: nothing changed
    assert trail.new() == []
    call_command("grant_instructor", "rae", "--revoke", stdout=StringIO())
    assert trail.one("role.grant").detail == {"role": ["instructor", "learner"]}


def test_role_grants_in_the_admin_record_the_staff_member_and_their_address():
    staff = UserFactory(username="sam", is_staff=True, is_superuser=True)
    user = UserFactory(username="rae")
    client = client_for(staff)
    url = reverse("admin:accounts_user_change", args=[user.pk])
    form = client.get(url).context["adminform"].form
    data = {
        "username": user.username,
        "email": user.email,
        "role": "instructor",
        "is_active": "on",
        "is_staff": "on",
        "date_joined_0": timezone.localtime(user.date_joined).strftime("%Y-%m-%d"),
        "date_joined_1": timezone.localtime(user.date_joined).strftime("%H:%M:%S"),
    }
    assert "role" in form.fields
    trail = Trail()
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = trail.one("role.grant")
    assert_event(event, actor=staff, detail={"role": ["learner", "instructor"], "is_staff": [False, True]})


def test_bank_edits_publishing_and_editors_are_recorded_with_the_bank_as_scope():
    owner, editor = instructor("owner"), instructor("ed")
    trail = Trail()
    bank = new_bank(owner)
    trail.one("bank.create")
    client = client_for(owner)
    client.post(
        reverse("studio:bank_settings", args=[bank.slug]),
        {"title": bank.title, "description": "New words", "status": "draft"},
    )
    assert_event(trail.one("bank.edit"), actor=owner, bank_id=bank.pk, detail={"description": ["", "New words"]})
    client.post(
        reverse("studio:bank_settings", args=[bank.slug]),
        {"title": bank.title, "description": "New words", "status": "published"},
    )
    assert_event(trail.one("bank.publish"), actor=owner, bank_id=bank.pk, detail={"status": ["draft", "published"]})
    client.post(reverse("studio:bank_editors", args=[bank.slug]), {"username": "ed"})
    event = trail.one("bank.editor_add")
    assert_event(event, actor=owner, bank_id=bank.pk)
    assert event.target_id == str(editor.pk)


def test_question_edits_and_status_changes_are_recorded_once_each():
    owner = instructor("owner")
    bank = new_bank(owner)
    client = client_for(owner)
    trail = Trail()
    client.post(reverse("studio:question_create", args=[bank.slug]), question_post())
    question = Question.objects.get(bank=bank)
    assert_event(trail.one("question.create"), actor=owner, bank_id=bank.pk, detail={"version": [None, 1]})
    client.post(
        reverse("studio:question_edit", args=[bank.slug, question.key]),
        question_post(explanation=EXPLANATION + " Also cheap."),
    )
    assert_event(trail.one("question.edit"), actor=owner, bank_id=bank.pk, detail={"version": [1, 2]})
    client.post(
        reverse("studio:question_edit", args=[bank.slug, question.key]),
        question_post(explanation=EXPLANATION + " Also cheap."),
    )
    assert trail.new() == []  # an unchanged save writes nothing, so records nothing
    status = reverse("studio:question_status", args=[bank.slug, question.key])
    client.post(status, {"status": "published"})
    assert_event(trail.one("question.publish"), actor=owner, bank_id=bank.pk, detail={"status": ["draft", "published"]})
    client.post(status, {"status": "retired"})
    assert_event(trail.one("question.retire"), actor=owner, bank_id=bank.pk)


def test_an_import_is_one_event_listing_the_questions_it_wrote():
    owner = instructor("owner")
    bank = new_bank(owner)
    text = "::Canary::" + "A team deploys a Lambda function and wants ten percent first. Which fits? {=A ~B ~C ~D}"
    defaults = formats.Defaults(domain=1, task="1.4", topic="deployment")
    result = importing.read_upload(text.encode(), "gift", source="w.gift", defaults=defaults)
    trail = Trail()
    with audit.acting(user=owner, ip=IP):
        importing.import_apply(bank=bank, result=result, publish=False, file_name="w.gift")
    event = trail.one("import.apply")
    assert_event(event, actor=owner, bank_id=bank.pk)
    assert event.detail["file"] == "w.gift" and event.detail["created"]["count"] == 1


def test_exam_definitions_record_what_changed():
    owner = instructor("owner")
    bank = new_bank(owner)
    blueprint = BlueprintFactory.build(bank=bank, title="Mock", question_count=5, duration_minutes=30)
    trail = Trail()
    with audit.acting(user=owner, ip=IP):
        exam_services.blueprint_save(bank=bank, blueprint=blueprint, slug="mock")
        assert_event(trail.one("blueprint.save"), actor=owner, bank_id=bank.pk, detail={"created": True})
        blueprint.duration_minutes, blueprint.pass_mark_percent = 45, 80
        exam_services.blueprint_save(bank=bank, blueprint=blueprint)
    event = trail.one("blueprint.save")
    assert event.detail == {"created": False, "duration_minutes": [30, 45], "pass_mark_percent": [75, 80]}


def test_group_membership_and_co_instructors_are_recorded_with_the_group_as_scope():
    owner, co = instructor("owner"), instructor("co")
    learner, other = UserFactory(username="lee"), UserFactory(username="ola")
    trail = Trail()
    with audit.acting(user=owner, ip=IP):
        group = services.group_create(owner=owner, name="Cohort")
    assert_event(trail.one("group.create"), actor=owner, group_id=group.pk)
    client_for(learner).post(reverse("groups:join"), {"code": group.join_code})
    assert Membership.objects.filter(user=learner).exists()
    assert_event(trail.one("group.member_join"), actor=learner, group_id=group.pk)
    client_for(learner).post(reverse("groups:leave", args=[group.pk]))
    assert_event(trail.one("group.member_leave"), actor=learner, group_id=group.pk)
    MembershipFactory(group=group, user=other)
    owner_client = client_for(owner)
    owner_client.post(reverse("groups:member_remove", args=[group.pk, other.pk]))
    event = trail.one("group.member_remove")
    assert_event(event, actor=owner, group_id=group.pk)
    assert event.target_id == str(other.pk)
    owner_client.post(reverse("groups:instructors", args=[group.pk]), {"username": "co"})
    assert_event(trail.one("group.co_instructor_add"), actor=owner, group_id=group.pk)
    owner_client.post(reverse("groups:instructor_remove", args=[group.pk, co.pk]))
    assert_event(trail.one("group.co_instructor_remove"), actor=owner, group_id=group.pk)
    owner_client.post(reverse("groups:rotate", args=[group.pk]), {"which": "code"})
    assert_event(trail.one("group.rotate_code"), actor=owner, group_id=group.pk)


def test_accommodations_are_recorded_but_a_members_own_leaderboard_choice_is_not():
    group = StudyGroupFactory()
    membership = MembershipFactory(group=group)
    trail = Trail()
    client_for(group.owner).post(
        reverse("groups:member", args=[group.pk, membership.user_id]),
        {"extra_time_percent": "50", "extra_time_minutes": "0"},
    )
    event = trail.one("group.accommodation")
    assert_event(event, actor=group.owner, group_id=group.pk, detail={"extra_time_percent": [0, 50]})
    with audit.acting(user=membership.user):
        services.membership_update(membership=Membership.objects.get(pk=membership.pk), leaderboard_opt_in=True)
    assert trail.new() == []


def test_starting_and_ending_a_sitting_extending_and_closing_a_members_attempt_are_recorded(timed_blueprint):
    group = StudyGroupFactory()
    member = MembershipFactory(group=group).user
    other = MembershipFactory(group=group).user
    assignment = AssignmentFactory(group=group, blueprint=timed_blueprint)
    sitting = services.sitting_open(assignment=assignment, now=timezone.now())
    seats = [services.sitting_join(sitting=sitting, user=u, now=timezone.now()) for u in (member, other)]
    teacher = client_for(group.owner)
    args = [group.pk, assignment.pk, sitting.pk]
    trail = Trail()
    teacher.post(reverse("groups:sitting_start", args=args))
    assert_event(trail.one("sitting.start"), actor=group.owner, group_id=group.pk)
    attempts = [services.seat_attempt(seat=seat, now=timezone.now()) for seat in seats]
    deadline = attempts[0].deadline
    teacher.post(reverse("groups:seat_extend", args=args), {"seat": seats[0].pk, "minutes": 15})
    event = trail.one("seat.extend")
    assert_event(event, actor=group.owner, group_id=group.pk, detail={"minutes": 15, "extra_minutes": [0, 15]})
    as_json = DjangoJSONEncoder().default
    assert event.detail["deadline"] == [as_json(deadline), as_json(deadline + timedelta(minutes=15))]
    assert event.target_id == str(member.pk)
    teacher.post(reverse("groups:seat_close", args=args), {"seat": seats[0].pk})
    assert_event(trail.one("seat.close"), actor=group.owner, group_id=group.pk)
    teacher.post(reverse("groups:sitting_end", args=args))
    assert_event(trail.one("sitting.end"), actor=group.owner, group_id=group.pk, detail={"attempts_closed": 1})
    teacher.post(reverse("groups:sitting_end", args=args))  # already ended: nothing happens, nothing recorded
    assert trail.new() == []


def test_the_client_address_is_the_one_the_trusted_proxy_saw(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    owner = instructor("owner")
    bank = new_bank(owner)
    client = client_for(owner, ip="10.0.0.2")
    trail = Trail()
    client.post(
        reverse("studio:bank_settings", args=[bank.slug]),
        {"title": "Renamed", "description": "", "status": "draft"},
        HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.7",
    )
    assert trail.one("bank.edit").ip == "198.51.100.7"


# --- Never editable -------------------------------------------------------------------------------------------


def test_an_event_cannot_be_changed_or_deleted_by_the_orm_or_the_admin():
    event = audit.record("bank.edit", summary="x")
    event.summary = "rewritten"
    with pytest.raises(EventImmutable):
        event.save()
    with pytest.raises(EventImmutable):
        event.delete()
    with pytest.raises(EventImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(EventImmutable):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == "x"

    staff = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(staff)
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    response = client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"summary": "rewritten"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).summary == "x"
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200  # read only


def test_a_failed_change_leaves_no_event():
    """The event is written in the change's own transaction: a refused status change records nothing."""
    owner = instructor("owner")
    bank = new_bank(owner)
    client_for(owner).post(reverse("studio:question_create", args=[bank.slug]), question_post())
    question = Question.objects.get(bank=bank)
    trail = Trail()
    with pytest.raises(editing.EditRefused):
        editing.question_set_status(question=question, status="retired")  # a draft cannot be retired
    assert trail.new() == []


# --- Who reads what -------------------------------------------------------------------------------------------


@pytest.fixture
def two_of_each():
    """Two banks and two groups with events of their own, and the people around them."""
    owner, editor, other = instructor("owner"), instructor("editor"), instructor("other")
    with audit.acting(user=owner, ip=IP):
        bank = new_bank(owner, title="Mine")
        bank.editors.add(editor)
        editing.bank_update(bank=bank, title="Mine", description="", status=Bank.Status.PUBLISHED)
        group = services.group_create(owner=owner, name="My cohort")
        services.co_instructor_add(group=group, username="editor")
    with audit.acting(user=other, ip=IP):
        other_bank = new_bank(other, title="SECRET-BANK")
        other_group = services.group_create(owner=other, name="SECRET-GROUP")
    return {
        "owner": owner,
        "editor": editor,
        "other": other,
        "bank": bank,
        "group": group,
        "other_bank": other_bank,
        "other_group": other_group,
    }


def test_a_bank_owner_reads_only_their_banks_events_and_a_group_owner_only_their_groups(two_of_each):
    w = two_of_each
    owner = client_for(w["owner"])
    page = owner.get(reverse("studio:bank_audit", args=[w["bank"].slug])).content.decode()
    assert "<code>bank.publish</code>" in page and "<code>bank.create</code>" in page
    assert "SECRET-BANK" not in page and "<code>group." not in page
    page = owner.get(reverse("groups:audit", args=[w["group"].pk])).content.decode()
    assert "<code>group.co_instructor_add</code>" in page and "SECRET-GROUP" not in page and "<code>bank." not in page
    assert 'class="stack-on-phone audit-table"' in page and 'data-label="Who"' in page
    assert "Audit trail" in owner.get(reverse("studio:bank_settings", args=[w["bank"].slug])).content.decode()
    assert "Audit trail" in owner.get(reverse("groups:settings", args=[w["group"].pk])).content.decode()

    for who in ("editor", "other"):  # an editor or co-instructor is not the owner; another owner is a stranger
        client = client_for(w[who])
        assert client.get(reverse("studio:bank_audit", args=[w["bank"].slug])).status_code == 404
        assert client.get(reverse("groups:audit", args=[w["group"].pk])).status_code == 404
        assert client.get(reverse("audit:events")).status_code == 404
    editor_page = client_for(w["editor"]).get(reverse("studio:bank", args=[w["bank"].slug])).content.decode()
    assert reverse("studio:bank_audit", args=[w["bank"].slug]) not in editor_page


def test_staff_read_every_event_and_filter_by_action(two_of_each):
    staff = client_for(UserFactory(username="sam", is_staff=True))
    assert reverse("audit:events") in staff.get(reverse("studio:home")).content.decode()
    page = staff.get(reverse("audit:events")).content.decode()
    assert "SECRET-BANK" in page and "SECRET-GROUP" in page and "My cohort" in page
    page = staff.get(reverse("audit:events"), {"action": "group"}).content.decode()
    assert "<code>group.create</code>" in page and "<code>bank.create</code>" not in page
    page = staff.get(reverse("audit:events"), {"action": "bank.publish"}).content.decode()
    assert page.count("<code>bank.publish</code>") == 1 and "<code>bank.create</code>" not in page
    page = staff.get(reverse("audit:events"), {"action": "'; drop"}).content.decode()
    assert "<code>bank.create</code>" in page  # a malformed filter is ignored, not an error


def test_the_audit_pages_make_the_same_queries_for_5_or_120_events(django_assert_max_num_queries):
    """Intended to prevent an n+1 issue: the actor's name is copied onto the event, so no row joins a user."""
    owner = instructor("owner")
    with audit.acting(user=owner, ip=IP):
        bank = new_bank(owner)
        group = services.group_create(owner=owner, name="Cohort")
    staff = client_for(UserFactory(username="sam", is_staff=True))
    owner_client = client_for(owner)
    urls = [
        (staff, reverse("audit:events")),
        (owner_client, reverse("studio:bank_audit", args=[bank.slug])),
        (owner_client, reverse("groups:audit", args=[group.pk])),
    ]
    counts = {}
    for total in (5, 120):
        with audit.acting(user=owner, ip=IP):
            for n in range(total - AuditEvent.objects.filter(bank_id=bank.pk).count()):
                audit.record(
                    "bank.edit", summary=f"edit {n}", detail={"title": ["a", "b"]}, bank_id=bank.pk, group_id=group.pk
                )
        for client, url in urls:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(url, []).append(len(queries))
    for url, (few, many) in counts.items():
        assert few == many, url
    for client, url in urls:
        with django_assert_max_num_queries(12):
            client.get(url, {"page": "2"})


def test_loading_a_bank_folder_records_one_import_only_when_something_changed():
    trail = Trail()
    call_command("load_bank", stdout=StringIO())
    event = trail.one("import.apply")
    assert event.actor is None and event.actor_name.startswith("manage.py (") and event.ip is None
    assert event.bank_id == Bank.objects.get(slug="dop-c02").pk and event.detail["created"]["count"] > 100
    call_command("load_bank", stdout=StringIO())  # every deploy reloads it: unchanged, so no news
    assert trail.new() == []
