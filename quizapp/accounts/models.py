from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person using the app; the role decides what beyond their own work they can reach."""

    class Role(models.TextChoices):
        LEARNER = "learner", "Learner"
        INSTRUCTOR = "instructor", "Instructor"

    email = models.EmailField("e-mail address", unique=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.LEARNER)

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_instructor(self):
        return self.role == self.Role.INSTRUCTOR
