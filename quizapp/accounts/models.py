import zoneinfo
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError("Choose a time zone from the list.")


class User(AbstractUser):
    """A person using the app; the role decides what beyond their own work they can reach."""

    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"

    email = models.EmailField("e-mail address", unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="Every date and time is shown in it."
    )
    # The learner's own accommodation for solo timed exams (AWS grants +30 minutes on request); an instructor
    # sets a member's accommodation for group work on the membership instead.
    extra_time_percent = models.PositiveSmallIntegerField(
        "extra time (%)", default=0, validators=[MaxValueValidator(200)]
    )
    extra_time_minutes = models.PositiveSmallIntegerField(
        "extra time (minutes)", default=0, validators=[MaxValueValidator(600)]
    )

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_instructor(self):
        return self.role == self.Role.INSTRUCTOR

    def extra_time_for(self, duration: timedelta) -> timedelta:
        """The learner's own extra time on a solo timed exam of `duration`."""
        return duration * self.extra_time_percent / 100 + timedelta(minutes=self.extra_time_minutes)
