from django.db import transaction

from .models import User


@transaction.atomic
def user_create(*, username: str, email: str, password: str, role: str = User.Role.LEARNER, **extra) -> User:
    """Create an account with a hashed password."""
    user = User(username=username, email=email.lower(), role=role, **extra)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user
