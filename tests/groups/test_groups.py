"""Study groups: joining, time zones, accommodations, assignment windows and limits, sittings, results."""

import threading
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from quizapp.exams import services as exam_services
from quizapp.exams.models import Attempt
from quizapp.groups import queries, services
from quizapp.groups import views as group_views
from quizapp.groups.models import Membership, Sitting, StudyGroup
from tests.factories import AssignmentFactory, MembershipFactory, UserFactory

from .conftest import client_for

pytestmark = pytest.mark.django_db


def finish_with(attempt, correct_positions, now):
    """Answer the given positions correctly (the rest wrong) and submit."""
    for slot in attempt.slots.select_related("question_version"):
        right = [c.pk for c in slot.question_version.choices.all() if c.is_correct]
        wrong = [c.pk for c in slot.question_version.choices.all() if not c.is_correct][:1]
        exam_services.attempt_save_answer(
            attempt_id=attempt.pk,
            position=slot.position,
            choice_ids=[str(i) for i in (right if slot.position in correct_positions else wrong)],
            given_at=now,
            now=now,
        )
    return exam_services.attempt_finish(attempt_id=attempt.pk, now=now)


# --- Joining --------------------------------------------------------------------------------------------------


def test_a_learner_joins_with_the_code_in_any_case_and_with_spaces(group):
    learner = UserFactory()
    code = group.join_code
    response = client_for(learner).post(reverse("groups:join"), {"code": f" {code[:4].lower()}-{code[4:]} "})
    assert response.status_code == 302 and response.url == group.get_absolute_url()
    assert Membership.objects.filter(group=group, user=learner).exists()


def test_a_rotated_code_and_link_admit_no_one_and_say_so(group):
    old_code, old_token = group.join_code, group.invite_token
    services.group_rotate_join_code(group=group)
    services.group_rotate_invite(group=group)
    learner = UserFactory()
    client = client_for(learner)
    response = client.post(reverse("groups:join"), {"code": old_code})
    assert response.status_code == 200 and "No group has this code" in response.content.decode()
    assert client.get(reverse("groups:invite", args=[old_token])).status_code == 404
    assert client.post(reverse("groups:invite", args=[group.invite_token])).status_code == 302
    assert Membership.objects.filter(group=group, user=learner).count() == 1


def test_closed_joining_refuses_code_and_link_but_keeps_members(group, member):
    services.group_update(group=group, joining_open=False)
    newcomer = client_for(UserFactory())
    response = newcomer.post(reverse("groups:join"), {"code": group.join_code})
    assert "not taking new members" in response.content.decode()
    response = newcomer.post(reverse("groups:invite", args=[group.invite_token]))
    assert response.status_code == 409 and "not taking new members" in response.content.decode()
    assert list(group.memberships.values_list("user__username", flat=True)) == ["mia"]


def test_a_member_leaves_and_an_instructor_removes_a_member(group, member, teacher):
    other = MembershipFactory(group=group).user
    client_for(member).post(reverse("groups:leave", args=[group.pk]))
    client_for(teacher).post(reverse("groups:member_remove", args=[group.pk, other.pk]))
    assert group.memberships.count() == 0


def test_the_owner_adds_a_co_instructor_who_then_teaches_but_cannot_change_settings(group, teacher):
    co = UserFactory(username="cole", role="instructor")
    learner = UserFactory(username="lee")
    owner = client_for(teacher)
    response = owner.post(reverse("groups:instructors", args=[group.pk]), {"username": "lee"})
    assert "not an instructor" in response.content.decode()
    owner.post(reverse("groups:instructors", args=[group.pk]), {"username": "COLE"})
    assert list(group.instructors.all()) == [co]
    assert StudyGroup.objects.taught_by(co).get() == group
    co_client = client_for(co)
    assert co_client.get(reverse("groups:members", args=[group.pk])).status_code == 200
    assert co_client.get(reverse("groups:settings", args=[group.pk])).status_code == 404
    assert learner not in group.instructors.all()


def test_a_learner_in_two_groups_sees_each_with_what_is_due_on_the_dashboard(group, member, timed_blueprint):
    second = MembershipFactory(user=member, group__name="Weekend cohort").group
    AssignmentFactory(group=group, blueprint=timed_blueprint)
    AssignmentFactory(group=second, blueprint=timed_blueprint)
    page = client_for(member).get(reverse("home")).content.decode()
    assert "Tuesday cohort" in page and "Weekend cohort" in page
    assert page.count("Assigned to you") == 2


# --- Time zones and accommodations ----------------------------------------------------------------------------


def test_times_are_shown_in_the_viewers_own_zone_with_its_name(group, member, assignment):
    assignment.closes_at = timezone.now().replace(month=1, day=15, hour=16, minute=0, second=0, microsecond=0)
    assignment.opens_at = assignment.closes_at - timedelta(days=400)
    assignment.save()
    member.time_zone = "Europe/Paris"
    member.save()
    page = client_for(member).get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert "17:00 CET" in page
    member.time_zone = "America/New_York"
    member.save()
    page = client_for(member).get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert "11:00 EST" in page


def test_sign_up_stores_the_chosen_zone_and_settings_change_it(client):
    client.post(
        reverse("accounts:signup"),
        {
            "username": "zoe",
            "email": "zoe@example.com",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
            "time_zone": "Asia/Tokyo",
        },
    )
    from quizapp.accounts.models import User

    assert User.objects.get(username="zoe").time_zone == "Asia/Tokyo"
    response = client.post(
        reverse("accounts:settings"), {"time_zone": "Mars/Olympus", "extra_time_percent": 0, "extra_time_minutes": 0}
    )
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    client.post(
        reverse("accounts:settings"),
        {"time_zone": "Europe/Lisbon", "extra_time_percent": 0, "extra_time_minutes": 30},
    )
    zoe = User.objects.get(username="zoe")
    assert (zoe.time_zone, zoe.extra_time_minutes) == ("Europe/Lisbon", 30)


def test_a_learners_own_extra_time_lengthens_their_solo_mocks(learner, timed_blueprint):
    learner.extra_time_percent, learner.extra_time_minutes = 50, 30
    learner.save()
    now = timezone.now()
    attempt = exam_services.attempt_start(user=learner, blueprint=timed_blueprint, now=now)
    assert attempt.deadline == now + timedelta(minutes=30 + 15 + 30)
    page = client_for(learner).get(reverse("exams:blueprint", args=[timed_blueprint.bank.slug, "timed"]))
    assert page.status_code == 200


def test_an_instructors_accommodation_applies_to_the_members_assigned_attempts(group, member, assignment):
    membership = Membership.objects.get(user=member)
    client_for(group.owner).post(
        reverse("groups:member", args=[group.pk, member.pk]), {"extra_time_percent": 0, "extra_time_minutes": 30}
    )
    membership.refresh_from_db()
    assert membership.extra_time_minutes == 30
    now = timezone.now()
    attempt = services.assignment_attempt_start(assignment=assignment, user=member, now=now)
    assert attempt.deadline == now + timedelta(minutes=60)
    assert attempt.context == f"assignment:{assignment.pk}"


# --- Assignment windows, deadline, limit, review policy -------------------------------------------------------


def test_no_start_before_opening_or_after_closing(member, assignment):
    opens, closes = assignment.opens_at, assignment.closes_at
    with pytest.raises(exam_services.StartRefused, match="opens at"):
        services.assignment_attempt_start(assignment=assignment, user=member, now=opens - timedelta(seconds=1))
    with pytest.raises(exam_services.StartRefused, match="closed at"):
        services.assignment_attempt_start(assignment=assignment, user=member, now=closes)
    assert not Attempt.objects.exists()


def test_the_deadline_is_the_close_when_that_comes_first_and_the_start_page_says_so(group, member, assignment):
    now = timezone.now()
    assignment.closes_at = now + timedelta(minutes=12)
    assignment.save()
    page = client_for(member).get(reverse("groups:assignment", args=[group.pk, assignment.pk])).content.decode()
    assert "this attempt will end at" in page and "when the assignment closes" in page
    attempt = services.assignment_attempt_start(assignment=assignment, user=member, now=now)
    assert attempt.deadline == assignment.closes_at


def test_the_attempt_limit_holds_and_the_page_says_none_are_left(group, member, assignment):
    now = timezone.now()
    for _ in range(2):
        attempt = services.assignment_attempt_start(assignment=assignment, user=member, now=now)
        exam_services.attempt_finish(attempt_id=attempt.pk, now=now)
    with pytest.raises(exam_services.StartRefused, match="all 2 attempt"):
        services.assignment_attempt_start(assignment=assignment, user=member, now=now)
    client = client_for(member)
    response = client.post(reverse("groups:assignment_start", args=[group.pk, assignment.pk]))
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "You have used all 2 attempt(s) allowed." in page
    assert Attempt.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_never_pass_the_attempt_limit(timed_blueprint):
    assignment = AssignmentFactory(blueprint=timed_blueprint, attempt_limit=1)
    member = MembershipFactory(group=assignment.group).user
    now = timezone.now()
    barrier = threading.Barrier(8)
    outcomes = []

    def start():
        try:
            barrier.wait()
            outcomes.append(services.assignment_attempt_start(assignment=assignment, user=member, now=now).pk)
        except exam_services.StartRefused:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - SQLite may report a busy database; that is a refusal too
            outcomes.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Attempt.objects.filter(user=member).count() == 1
    attempt_id = Attempt.objects.get(user=member).pk
    assert attempt_id in outcomes  # everyone who got an attempt got the same one


def test_answers_stay_hidden_until_the_close_when_the_policy_says_so(group, member, assignment):
    assignment.review_policy = "after_close"
    assignment.save()
    now = timezone.now()
    attempt = services.assignment_attempt_start(assignment=assignment, user=member, now=now)
    finish_with(attempt, {1, 2, 3}, now)
    client = client_for(member)
    result_url = reverse("exams:result", args=[attempt.pk])
    answers_url = reverse("exams:answers", args=[attempt.pk])
    page = client.get(result_url).content.decode()
    first = attempt.slots.select_related("question_version").first().question_version
    assert "50%" in page and first.explanation not in page and "after the assignment closes" in page
    assert answers_url not in page and client.get(answers_url).url == result_url
    assert client.get(reverse("exams:report", args=[attempt.pk, 1])).status_code == 404
    Attempt.objects.filter(pk=attempt.pk).update(review_opens_at=now - timedelta(seconds=1))
    assert answers_url in client.get(result_url).content.decode()
    assert first.explanation in client.get(answers_url).content.decode()


# --- The sitting ----------------------------------------------------------------------------------------------


@pytest.fixture
def sitting(assignment):
    return services.sitting_open(assignment=assignment, now=timezone.now())


def test_everyone_starts_at_the_same_moment_and_a_late_arrival_gets_the_time_that_is_left(group, member, sitting):
    late = MembershipFactory(group=group, user=UserFactory(username="lou")).user
    MembershipFactory(group=group, user=UserFactory(username="accommodated"), extra_time_minutes=30)
    early_seat = services.sitting_join(sitting=sitting, user=member, now=timezone.now())
    start = timezone.now()
    sitting = services.sitting_start(sitting=sitting, now=start)
    first = services.seat_attempt(seat=early_seat, now=start + timedelta(seconds=3))
    late_seat = services.sitting_join(sitting=sitting, user=late, now=start + timedelta(minutes=10))
    second = services.seat_attempt(seat=late_seat, now=start + timedelta(minutes=10))
    assert first.started_at == second.started_at == start
    assert first.deadline == second.deadline == start + timedelta(minutes=30)
    accommodated = Membership.objects.get(user__username="accommodated").user
    seat = services.sitting_join(sitting=sitting, user=accommodated, now=start + timedelta(minutes=1))
    assert services.seat_attempt(seat=seat, now=start + timedelta(minutes=1)).deadline == start + timedelta(minutes=60)


def test_the_lobby_poll_is_204_until_something_changes_then_sends_the_member_into_the_exam(group, member, sitting):
    client = client_for(member)
    lobby = reverse("groups:lobby", args=[group.pk, sitting.assignment_id, sitting.pk])
    page = client.get(lobby).content.decode()
    assert "Waiting for your instructor" in page and "mia (you)" in page
    sitting.refresh_from_db()
    poll = reverse("groups:lobby_poll", args=[group.pk, sitting.assignment_id, sitting.pk])
    assert client.get(poll, {"v": sitting.version}, HTTP_HX_REQUEST="true").status_code == 204
    services.sitting_join(sitting=sitting, user=MembershipFactory(group=group).user, now=timezone.now())
    response = client.get(poll, {"v": sitting.version - 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content.decode().count('class="chip"') == 2
    # A large group: the count, the latest arrivals by name, and how many more (not 500 names on every poll).
    for _ in range(queries.LOBBY_NAMES_SHOWN + 1):
        services.sitting_join(sitting=sitting, user=MembershipFactory(group=group).user, now=timezone.now())
    text = client.get(poll, {"v": 0}, HTTP_HX_REQUEST="true").content.decode()
    assert text.count('class="chip"') == queries.LOBBY_NAMES_SHOWN and "and 3 more" in text
    assert '<span class="count">27</span>' in text and "mia (you)" not in text  # mia came first
    services.sitting_start(sitting=sitting, now=timezone.now())
    response = client.get(poll, {"v": sitting.version}, HTTP_HX_REQUEST="true")
    attempt = Attempt.objects.get(user=member)
    assert response["HX-Redirect"] == reverse("exams:question", args=[attempt.pk, 1])  # the first question itself


def test_an_unchanged_lobby_poll_costs_one_query_beyond_the_session(group, member, sitting, django_assert_num_queries):
    client = client_for(member)
    client.get(reverse("groups:lobby", args=[group.pk, sitting.assignment_id, sitting.pk]))
    sitting.refresh_from_db()
    poll = reverse("groups:lobby_poll", args=[group.pk, sitting.assignment_id, sitting.pk])
    with django_assert_num_queries(3):  # the session, the user, the sitting (which also proves the membership)
        assert client.get(poll, {"v": sitting.version}, HTTP_HX_REQUEST="true").status_code == 204
    # Only arrivals since a list rendered a moment ago: 204 until the list is LOBBY_LIST_REFRESH_SECONDS old.
    stale = sitting.version  # the version before this arrival
    services.sitting_join(sitting=sitting, user=MembershipFactory(group=group).user, now=timezone.now())
    fresh = f"{stale}.{int(timezone.now().timestamp()) - 2}"
    old = f"{stale}.{int(timezone.now().timestamp()) - group_views.LOBBY_LIST_REFRESH_SECONDS - 1}"
    assert client.get(poll, {"v": fresh}, HTTP_HX_REQUEST="true").status_code == 204
    response = client.get(poll, {"v": old}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content.decode().count('class="chip"') == 2
    # The start is never held back by a fresh list: the next poll enters the exam.
    services.sitting_start(sitting=sitting, now=timezone.now())
    assert client.get(poll, {"v": fresh}, HTTP_HX_REQUEST="true")["HX-Redirect"].startswith("/attempts/")
    # Someone outside the group learns nothing, even with the right version: the full path refuses them.
    outsider = client_for(UserFactory())
    assert outsider.get(poll, {"v": sitting.version}, HTTP_HX_REQUEST="true").status_code == 404


def test_the_start_begins_every_seated_members_attempt_at_once_under_their_own_rules(group, member, sitting):
    accommodated = MembershipFactory(group=group, user=UserFactory(username="acc"), extra_time_minutes=30).user
    spent = MembershipFactory(group=group, user=UserFactory(username="spent")).user
    for _ in range(2):  # the assignment allows two attempts: this member has used both
        attempt = services.assignment_attempt_start(assignment=sitting.assignment, user=spent, now=timezone.now())
        exam_services.attempt_finish(attempt_id=attempt.pk, now=timezone.now())
    own = MembershipFactory(group=group, user=UserFactory(username="own")).user
    already_open = services.assignment_attempt_start(assignment=sitting.assignment, user=own, now=timezone.now())
    seats = {
        user: services.sitting_join(sitting=sitting, user=user, now=timezone.now())
        for user in (member, accommodated, spent, own)
    }
    seats[accommodated].extra_minutes = 5
    seats[accommodated].save()
    start = timezone.now()
    services.sitting_start(sitting=sitting, now=start)
    started = {seat.user.username: seat.attempt for seat in sitting.seats.select_related("attempt", "user")}
    assert started["spent"] is None and started["own"] is None  # left to their own start, which says why or resumes
    assert started["mia"].started_at == started["acc"].started_at == start
    assert started["mia"].deadline == start + timedelta(minutes=30)
    assert started["acc"].deadline == start + timedelta(minutes=65)  # their accommodation and the proctor's minutes
    assert started["mia"].slots.count() == started["mia"].question_count > 0
    assert sorted(started["mia"].slots.values_list("position", flat=True)) == list(
        range(1, started["mia"].question_count + 1)
    )
    # Whoever was left out is dealt with as a late arrival: the resume of their own attempt, or the refusal.
    assert services.seat_attempt(seat=seats[own], now=start) == already_open
    with pytest.raises(exam_services.StartRefused):
        services.seat_attempt(seat=seats[spent], now=start)
    assert Attempt.objects.filter(user=member).count() == 1  # entering the exam finds the one the start made
    assert services.seat_attempt(seat=seats[member], now=start) == started["mia"]


def test_the_start_costs_the_same_queries_for_3_or_12_seated_members(group, assignment):
    def start_with(members):
        sitting = services.sitting_open(assignment=assignment, now=timezone.now())
        for _ in range(members):
            services.sitting_join(sitting=sitting, user=MembershipFactory(group=group).user, now=timezone.now())
        with CaptureQueriesContext(connection) as captured:
            services.sitting_start(sitting=sitting, now=timezone.now())
        assert Attempt.objects.filter(context=assignment.attempt_context).count() >= members
        services.sitting_end(sitting=sitting, now=timezone.now())
        return len(captured)

    assert start_with(3) == start_with(12)


def test_after_the_start_a_poll_sends_the_member_to_the_question_in_two_queries(
    group, member, sitting, django_assert_num_queries
):
    client = client_for(member)
    client.get(reverse("groups:lobby", args=[group.pk, sitting.assignment_id, sitting.pk]))
    sitting = services.sitting_start(sitting=sitting, now=timezone.now())
    attempt = Attempt.objects.get(user=member)
    Attempt.objects.filter(pk=attempt.pk).update(current_position=4)  # a second tab that moved on
    poll = reverse("groups:lobby_poll", args=[group.pk, sitting.assignment_id, sitting.pk])
    with django_assert_num_queries(4):  # the session, the user, the sitting still in its lobby (none), the seat
        response = client.get(poll, {"v": sitting.version - 1}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("exams:question", args=[attempt.pk, 4])
    # Removed from the group since: the quick answer does not apply, and the full path refuses.
    Membership.objects.filter(user=member).delete()
    assert client.get(poll, {"v": 0}, HTTP_HX_REQUEST="true").status_code == 404


def test_an_extension_moves_the_deadline_and_the_members_page_learns_it(group, member, sitting):
    seat = services.sitting_join(sitting=sitting, user=member, now=timezone.now())
    services.sitting_start(sitting=sitting, now=timezone.now())
    attempt = services.seat_attempt(seat=seat, now=timezone.now())
    client = client_for(member)
    status = reverse("exams:status", args=[attempt.pk])
    shown = str(int(attempt.deadline.timestamp()))
    assert client.get(status, {"deadline": shown}, HTTP_HX_REQUEST="true").status_code == 204
    client_for(group.owner).post(
        reverse("groups:seat_extend", args=[group.pk, sitting.assignment_id, sitting.pk]),
        {"seat": seat.pk, "minutes": 15},
    )
    attempt.refresh_from_db()
    assert attempt.deadline == attempt.started_at + timedelta(minutes=45)
    response = client.get(status, {"deadline": shown}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="timer"' in response.content.decode()
    assert 'hx-swap-oob="true"' in response.content.decode()


def test_closing_one_attempt_and_ending_the_sitting_grade_what_was_saved(group, member, sitting):
    other = MembershipFactory(group=group).user
    seats = [services.sitting_join(sitting=sitting, user=u, now=timezone.now()) for u in (member, other)]
    services.sitting_start(sitting=sitting, now=timezone.now())
    attempts = [services.seat_attempt(seat=s, now=timezone.now()) for s in seats]
    teacher = client_for(group.owner)
    args = [group.pk, sitting.assignment_id, sitting.pk]
    teacher.post(reverse("groups:seat_close", args=args), {"seat": seats[0].pk})
    attempts[0].refresh_from_db()
    assert attempts[0].finish_reason == "closed" and attempts[1].is_open
    response = client_for(member).get(reverse("exams:status", args=[attempts[0].pk]), HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("exams:result", args=[attempts[0].pk])
    teacher.post(reverse("groups:sitting_end", args=args))
    sitting.refresh_from_db()
    attempts[1].refresh_from_db()
    assert sitting.state == Sitting.State.ENDED and attempts[1].finish_reason == "closed"


def test_the_proctor_poll_is_204_while_nothing_changed_and_never_shows_an_answer(group, member, sitting):
    seat = services.sitting_join(sitting=sitting, user=member, now=timezone.now())
    services.sitting_start(sitting=sitting, now=timezone.now())
    attempt = services.seat_attempt(seat=seat, now=timezone.now())
    teacher = client_for(group.owner)
    poll = reverse("groups:proctor_poll", args=[group.pk, sitting.assignment_id, sitting.pk])
    first = teacher.get(poll, HTTP_HX_REQUEST="true")
    token = first.content.decode().split("?v=")[1].split('"')[0]
    assert teacher.get(poll, {"v": token}, HTTP_HX_REQUEST="true").status_code == 204
    slot = attempt.slots.select_related("question_version").get(position=1)
    choice = slot.question_version.choices.first()
    exam_services.attempt_save_answer(
        attempt_id=attempt.pk, position=1, choice_ids=[str(choice.pk)], given_at=timezone.now(), now=timezone.now()
    )
    changed = teacher.get(poll, {"v": token}, HTTP_HX_REQUEST="true").content.decode()
    assert "1 / 6" in changed
    for text in [slot.question_version.explanation, choice.text, choice.rationale, slot.question_version.stem]:
        assert text not in changed


def test_a_member_whose_page_went_quiet_for_a_minute_is_marked(group, member, sitting):
    seat = services.sitting_join(sitting=sitting, user=member, now=timezone.now())
    start = timezone.now()
    services.sitting_start(sitting=sitting, now=start)
    services.seat_attempt(seat=seat, now=start)
    sitting.refresh_from_db()
    [row] = queries.proctor_rows(sitting=sitting, now=start + timedelta(seconds=30))
    assert not row.stale
    [row] = queries.proctor_rows(sitting=sitting, now=start + timedelta(seconds=61))
    assert row.stale and row.status == "answering"


# --- After: debrief, results, leaderboard ---------------------------------------------------------------------


def test_the_debrief_counts_each_option_and_puts_the_hardest_question_first(group, sitting):
    members = [MembershipFactory(group=group).user for _ in range(3)]
    services.sitting_start(sitting=sitting, now=timezone.now())
    now = timezone.now()
    for i, user in enumerate(members):
        seat = services.sitting_join(sitting=sitting, user=user, now=now)
        attempt = services.seat_attempt(seat=seat, now=now)
        finish_with(attempt, {1, 2, 3, 4, 5} if i else {1}, now)
    questions = queries.debrief(attempts=sitting.assignment.attempts())
    assert sum(q.responses for q in questions) == 18
    facilities = [q.facility for q in questions]
    assert facilities == sorted(facilities)
    for question in questions:  # every response chose one option or two: never fewer than the responses
        assert sum(option.chosen for option in question.options) >= question.responses
    page = client_for(group.owner).get(
        reverse("groups:debrief", args=[group.pk, sitting.assignment_id]), {"n": "2", "sitting": sitting.pk}
    )
    assert page.status_code == 200 and "Question 2 of" in page.content.decode()
    junk = client_for(group.owner).get(reverse("groups:debrief", args=[group.pk, sitting.assignment_id]), {"n": "x²"})
    assert junk.status_code == 200


def test_the_matrix_shows_pass_not_yet_in_progress_and_not_started(group, timed_blueprint):
    first = AssignmentFactory(group=group, blueprint=timed_blueprint, attempt_limit=3)
    second = AssignmentFactory(group=group, blueprint=timed_blueprint)
    passer, trier, starter, idle = (MembershipFactory(group=group, user__username=n).user for n in "abcd")
    now = timezone.now()
    finish_with(services.assignment_attempt_start(assignment=first, user=passer, now=now), {1, 2, 3, 4, 5}, now)
    finish_with(services.assignment_attempt_start(assignment=first, user=trier, now=now), {1}, now)
    finish_with(services.assignment_attempt_start(assignment=first, user=trier, now=now), {1, 2}, now)
    services.assignment_attempt_start(assignment=second, user=starter, now=now)
    matrix = queries.results_matrix(group=group)
    status = {
        (m.user.username, a.pk): matrix.cells[(m.user_id, a.pk)] for m in matrix.members for a in matrix.assignments
    }
    assert status[("a", first.pk)].status == "pass"
    assert (status[("b", first.pk)].status, status[("b", first.pk)].best, status[("b", first.pk)].latest) == (
        "not yet",
        33.3,
        33.3,
    )
    assert status[("c", second.pk)].status == "in progress"
    assert status[("d", first.pk)].status == "not started"
    page = client_for(group.owner).get(reverse("groups:results", args=[group.pk])).content.decode()
    assert "Pass" in page and "Not yet" in page and "In progress" in page and "Not started" in page


def test_the_csv_neutralises_cells_that_a_spreadsheet_would_run(group):
    MembershipFactory(group=group, user__username="=HYPERLINK(1)")
    AssignmentFactory(group=group)
    body = client_for(group.owner).get(reverse("groups:results_csv", args=[group.pk])).content.decode()
    assert "'=HYPERLINK(1)" in body and "\n=HYPERLINK" not in body


def test_the_leaderboard_is_off_by_default_and_lists_only_members_who_opted_in(group, assignment):
    shy, proud = (MembershipFactory(group=group, user__username=n).user for n in ("shy", "proud"))
    now = timezone.now()
    for user in (shy, proud):
        finish_with(services.assignment_attempt_start(assignment=assignment, user=user, now=now), {1, 2}, now)
    client = client_for(proud)
    assert "Leaderboard" not in client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    services.group_update(group=group, leaderboard_enabled=True)
    client.post(reverse("groups:opt_in", args=[group.pk]), {"leaderboard_opt_in": "on"})
    page = client_for(shy).get(reverse("groups:detail", args=[group.pk])).content.decode()
    board = page.split('id="board-title"')[1].split("</ol>")[0]
    assert "proud" in board and "shy" not in board


def test_a_member_sees_the_groups_averages_but_never_another_members_attempt(group, member, assignment):
    other = MembershipFactory(group=group).user
    now = timezone.now()
    theirs = finish_with(services.assignment_attempt_start(assignment=assignment, user=other, now=now), {1}, now)
    client = client_for(member)
    page = client.get(reverse("groups:detail", args=[group.pk])).content.decode()
    assert "16.7%" in page and other.username not in page
    assert client.get(reverse("exams:result", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("exams:answers", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("groups:member", args=[group.pk, other.pk])).status_code == 404


# --- Query counts: constant in members and assignments --------------------------------------------------------


def grow(group, blueprint, *, members, assignments):
    now = timezone.now()
    made = [AssignmentFactory(group=group, blueprint=blueprint, attempt_limit=5) for _ in range(assignments)]
    for _ in range(members):
        user = MembershipFactory(group=group).user
        for assignment in made:
            exam_services.attempt_finish(
                attempt_id=services.assignment_attempt_start(assignment=assignment, user=user, now=now).pk, now=now
            )
    return made


def count_queries(client, url, **extra):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, **extra).status_code == 200
    return len(captured)


def test_the_matrix_and_member_home_take_the_same_queries_for_3_or_9_members(group, timed_blueprint):
    grow(group, timed_blueprint, members=1, assignments=1)
    teacher = client_for(group.owner)
    member = client_for(group.memberships.first().user)
    small = count_queries(teacher, reverse("groups:results", args=[group.pk]))
    cache.clear()  # the dashboard caches its figures: measure the computed page both times
    home_small = count_queries(member, reverse("home"))
    grow(group, timed_blueprint, members=4, assignments=2)
    assert count_queries(teacher, reverse("groups:results", args=[group.pk])) == small == 9
    cache.clear()
    assert count_queries(member, reverse("home")) == home_small


def test_the_proctor_partial_takes_the_same_queries_for_2_or_8_members(group, sitting):
    def seat_everyone():
        for membership in group.memberships.all():
            seat = services.sitting_join(sitting=sitting, user=membership.user, now=timezone.now())
            services.seat_attempt(seat=seat, now=timezone.now())

    services.sitting_start(sitting=sitting, now=timezone.now())
    for _ in range(2):
        MembershipFactory(group=group)
    seat_everyone()
    teacher = client_for(group.owner)
    poll = reverse("groups:proctor_poll", args=[group.pk, sitting.assignment_id, sitting.pk])
    small = count_queries(teacher, poll, HTTP_HX_REQUEST="true")
    for _ in range(6):
        MembershipFactory(group=group)
    seat_everyone()
    assert count_queries(teacher, poll, HTTP_HX_REQUEST="true") == small == 8
