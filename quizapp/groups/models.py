"""Study groups: members, assignments of an exam with a window, live sittings.

A group's attempts are ordinary attempts of the exam engine; an assignment marks its own with the attempt context
`assignment:<id>` (Attempt.context), so the engine never needs to know about groups.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from quizapp.exams.models import Attempt, AttemptState, ExamBlueprint

# Letters and digits that cannot be misread for each other when a code is read aloud or copied from a slide.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_invite_token() -> str:
    return secrets.token_urlsafe(16)


class StudyGroupQuerySet(models.QuerySet):
    def taught_by(self, user):
        """Groups this user owns or co-instructs."""
        return self.filter(Q(owner=user) | Q(instructors=user)).distinct()

    def joined_by(self, user):
        return self.filter(memberships__user=user)


class StudyGroup(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_groups")
    instructors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="co_instructed_groups", help_text="Co-instructors."
    )
    join_code = models.CharField(max_length=CODE_LENGTH, unique=True, default=new_join_code)
    invite_token = models.CharField(max_length=32, unique=True, default=new_invite_token)
    joining_open = models.BooleanField(default=True, help_text="Whether the code and the invite link admit anyone.")
    leaderboard_enabled = models.BooleanField(
        default=False, help_text="Show members a leaderboard of the members who opted in."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StudyGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("groups:detail", args=[self.pk])

    def is_taught_by(self, user) -> bool:
        return self.owner_id == user.pk or self.instructors.filter(pk=user.pk).exists()


class Membership(models.Model):
    """A learner in a group, with the accommodation their instructor grants for the group's exams."""

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    joined_at = models.DateTimeField(auto_now_add=True)
    extra_time_percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(200)])
    extra_time_minutes = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(600)])
    leaderboard_opt_in = models.BooleanField(default=False)

    class Meta:
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_membership_per_group")]

    def __str__(self):
        return f"{self.user} in {self.group}"

    def extra_time_for(self, duration: timedelta) -> timedelta:
        return duration * self.extra_time_percent / 100 + timedelta(minutes=self.extra_time_minutes)

    @property
    def has_accommodation(self):
        return bool(self.extra_time_percent or self.extra_time_minutes)


class AssignmentQuerySet(models.QuerySet):
    def for_member(self, user):
        return self.filter(group__memberships__user=user)


class Assignment(models.Model):
    class ReviewPolicy(models.TextChoices):
        AFTER_SUBMIT = "after_submit", "Right after submitting"
        AFTER_CLOSE = "after_close", "Only after the assignment closes"

    group = models.ForeignKey(StudyGroup, on_delete=models.CASCADE, related_name="assignments")
    blueprint = models.ForeignKey(ExamBlueprint, on_delete=models.PROTECT, related_name="+")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    attempt_limit = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    review_policy = models.CharField(max_length=20, choices=ReviewPolicy.choices, default=ReviewPolicy.AFTER_SUBMIT)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["closes_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="closes_after_opens")
        ]

    def __str__(self):
        return f"{self.blueprint} for {self.group}"

    @property
    def attempt_context(self) -> str:
        """The key this assignment's attempts carry in Attempt.context."""
        return f"assignment:{self.pk}"

    def attempts(self):
        return Attempt.objects.filter(context=self.attempt_context)

    def is_open_at(self, now) -> bool:
        return self.opens_at <= now < self.closes_at

    def state_at(self, now) -> str:
        if now < self.opens_at:
            return "upcoming"
        return "open" if now < self.closes_at else "closed"


class SittingQuerySet(models.QuerySet):
    def waiting_for(self, *, user, group_id, assignment_id):
        """Sittings of this assignment still in their lobby, if the user is a member of its group."""
        return self.filter(
            assignment_id=assignment_id,
            assignment__group_id=group_id,
            assignment__group__memberships__user=user,
            state=Sitting.State.LOBBY,
        )


class Sitting(models.Model):
    """A live, synchronized session of an assignment: a lobby, one start moment for all, one end."""

    class State(models.TextChoices):
        LOBBY = "lobby", "Lobby open"
        RUNNING = "running", "Running"
        ENDED = "ended", "Ended"

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="sittings")
    state = models.CharField(max_length=10, choices=State.choices, default=State.LOBBY)
    opened_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    # Bumped by every write that changes what the lobby or the proctor view shows; polls send the one they have.
    version = models.PositiveIntegerField(default=1)

    objects = SittingQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"], condition=~Q(state="ended"), name="one_live_sitting_per_assignment"
            )
        ]

    def __str__(self):
        return f"Sitting of {self.assignment} ({self.get_state_display()})"

    @property
    def is_live(self):
        return self.state != self.State.ENDED


class SeatQuerySet(models.QuerySet):
    def entering(self, *, user, group_id, assignment_id, sitting_id):
        """The user's seat in this running sitting, if they are still a member and its attempt is open.

        Unordered: there is at most one, and Seat's default order would join the users' table to sort it.
        """
        return self.order_by().filter(
            sitting_id=sitting_id,
            sitting__assignment_id=assignment_id,
            sitting__assignment__group_id=group_id,
            sitting__assignment__group__memberships__user=user,
            sitting__state=Sitting.State.RUNNING,
            user=user,
            attempt__state=AttemptState.IN_PROGRESS,
        )


class Seat(models.Model):
    """A member's place in a sitting: when they arrived, extra minutes the proctor gave, their attempt."""

    sitting = models.ForeignKey(Sitting, on_delete=models.CASCADE, related_name="seats")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField()
    extra_minutes = models.PositiveSmallIntegerField(default=0)
    attempt = models.OneToOneField(Attempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = SeatQuerySet.as_manager()

    class Meta:
        ordering = ["user__username"]
        constraints = [models.UniqueConstraint(fields=["sitting", "user"], name="one_seat_per_member")]

    def __str__(self):
        return f"{self.user} at {self.sitting}"
