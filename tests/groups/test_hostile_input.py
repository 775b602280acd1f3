"""Whatever a client sends to a group page, the answer is a page or a refusal, never a 500, and nothing half-done."""

import pytest
from django.urls import reverse
from django.utils import timezone

from quizapp.groups import services

from .conftest import client_for

pytestmark = pytest.mark.django_db
JUNK = ["", "abc", "-1", "0", "9" * 30, "1e9", "²", "<script>", "NaN", "1.5", "٣", " 7 ", "\x00"]


def test_junk_in_every_group_form_and_query_is_refused_cleanly(group, member, assignment):
    sitting = services.sitting_open(assignment=assignment, now=timezone.now())
    seat = services.sitting_join(sitting=sitting, user=member, now=timezone.now())
    teacher, learner = client_for(group.owner), client_for(member)
    s_args = [group.pk, assignment.pk, sitting.pk]
    tried = 0
    for value in JUNK:
        posts = [
            (learner, reverse("groups:join"), {"code": value}),
            (learner, reverse("groups:opt_in", args=[group.pk]), {"leaderboard_opt_in": value}),
            (teacher, reverse("groups:rotate", args=[group.pk]), {"which": value}),
            (teacher, reverse("groups:instructors", args=[group.pk]), {"username": value}),
            (
                teacher,
                reverse("groups:member", args=[group.pk, member.pk]),
                {"extra_time_percent": value, "extra_time_minutes": value},
            ),
            (
                teacher,
                reverse("groups:assignment_create", args=[group.pk]),
                {
                    "blueprint": value,
                    "opens_at": value,
                    "closes_at": value,
                    "attempt_limit": value,
                    "review_policy": value,
                },
            ),
            (teacher, reverse("groups:seat_extend", args=s_args), {"seat": value, "minutes": value}),
            (teacher, reverse("groups:seat_extend", args=s_args), {"seat": str(seat.pk), "minutes": value}),
            (teacher, reverse("groups:seat_close", args=s_args), {"seat": value}),
            (teacher, reverse("groups:settings", args=[group.pk]), {"name": value, "description": value}),
        ]
        for client, url, data in posts:
            response = client.post(url, data)
            assert response.status_code < 500, (url, value, response.status_code)
            tried += 1
        gets = [
            (learner, reverse("groups:lobby_poll", args=s_args), {"v": value}),
            (teacher, reverse("groups:proctor_poll", args=s_args), {"v": value}),
            (teacher, reverse("groups:debrief", args=[group.pk, assignment.pk]), {"n": value, "sitting": value}),
            (learner, reverse("groups:invite", args=[value or "x"]), {}),
        ]
        for client, url, data in gets:
            response = client.get(url, data, HTTP_HX_REQUEST="true")
            assert response.status_code < 500, (url, value, response.status_code)
            tried += 1
    seat.refresh_from_db()
    # Only the values that are whole minutes from 1 to 180 were given: " 7 " and "٣" (an Arabic-Indic three).
    assert seat.extra_minutes == 7 + 3 and group.assignments.count() == 1
    assert tried == len(JUNK) * 14


def test_a_lobby_token_with_an_absurd_timestamp_is_a_render_not_a_500(group, member, assignment):
    """The lobby poll's token is `<version>.<rendered at>`, both from the client: any digits it sends are safe."""
    sitting = services.sitting_open(assignment=assignment, now=timezone.now())
    learner = client_for(member)
    learner.get(reverse("groups:lobby", args=[group.pk, assignment.pk, sitting.pk]))
    poll = reverse("groups:lobby_poll", args=[group.pk, assignment.pk, sitting.pk])
    for rendered in ("9" * 400, "9" * 5000, "-5", "1.2", "٣٣٣", ""):
        response = learner.get(poll, {"v": f"0.{rendered}"}, HTTP_HX_REQUEST="true")
        assert response.status_code == 200, (rendered[:12], response.status_code)  # stale: the list, re-rendered


def test_a_closing_time_before_the_opening_is_refused_with_a_message(group, timed_blueprint):
    teacher = client_for(group.owner)
    response = teacher.post(
        reverse("groups:assignment_create", args=[group.pk]),
        {
            "blueprint": timed_blueprint.pk,
            "opens_at": "2027-01-10T10:00",
            "closes_at": "2027-01-10T09:00",
            "attempt_limit": 1,
            "review_policy": "after_submit",
        },
    )
    assert response.status_code == 200
    assert "The closing time must come after the opening time." in response.content.decode()
    assert group.assignments.count() == 0


def test_the_same_member_joining_twice_and_a_teacher_joining_are_handled(group, member):
    learner = client_for(member)
    assert learner.post(reverse("groups:join"), {"code": group.join_code}).status_code == 302
    assert group.memberships.filter(user=member).count() == 1
    response = client_for(group.owner).post(reverse("groups:join"), {"code": group.join_code})
    assert "You teach this group" in response.content.decode()
