from django.db import transaction

from quizapp import audit

from .models import User


@transaction.atomic
def user_create(*, username: str, email: str, password: str, role: str = User.Role.LEARNER, **extra) -> User:
    """Create an account with a hashed password."""
    user = User(username=username, email=email.lower(), role=role, **extra)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def user_settings_save(*, user: User, time_zone: str, extra_time_percent: int, extra_time_minutes: int) -> User:
    """Store the learner's time zone and their own accommodation for solo timed exams."""
    user.time_zone = time_zone
    user.extra_time_percent = extra_time_percent
    user.extra_time_minutes = extra_time_minutes
    user.full_clean(exclude=["password"])
    user.save(update_fields=["time_zone", "extra_time_percent", "extra_time_minutes"])
    return user


@transaction.atomic
def user_set_role(*, user: User, role: str) -> User:
    """Grant or revoke the instructor role (banks and groups of their own), on the audit trail."""
    old = user.role
    user.role = role
    user.full_clean(exclude=["password"])
    user.save(update_fields=["role"])
    if old != role:
        audit.record(
            "role.grant",
            summary=f"{user.username} is now {user.get_role_display().lower()} (was {old})",
            target=user,
            detail={"role": [old, role]},
        )
    return user
