import re

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse

from quizapp.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_user_model_is_the_custom_one():
    from django.contrib.auth import get_user_model

    assert get_user_model() is User
    assert User._meta.get_field("role").default == User.Role.LEARNER


def test_sign_up_creates_a_learner_and_logs_them_in():
    client = Client()
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "newbie",
            "email": "Newbie@Example.com",
            "password1": "a-long-passphrase-9",
            "password2": "a-long-passphrase-9",
        },
    )
    assert response.status_code == 302 and response.url == reverse("exams:catalogue")
    user = User.objects.get(username="newbie")
    assert user.email == "newbie@example.com" and user.role == User.Role.LEARNER
    assert client.get(reverse("exams:catalogue")).status_code == 200


def test_sign_up_errors_re_render_the_form_and_keep_the_input():
    UserFactory(username="taken", email="taken@example.com")
    response = Client().post(
        reverse("accounts:signup"),
        {"username": "taken", "email": "TAKEN@example.com", "password1": "short", "password2": "different"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "A user with that username already exists." in body
    assert "An account with this e-mail address already exists." in body
    assert 'value="TAKEN@example.com"' in body
    assert User.objects.count() == 1


def test_login_rotates_the_session_and_logout_kills_the_old_cookie():
    user = UserFactory()
    client = Client()
    client.get(reverse("accounts:login"))
    client.session.save()
    before = client.session.session_key
    assert login(client, user.username).status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    client.post(reverse("accounts:logout"))
    stale = Client()
    stale.cookies["sessionid"] = after
    assert stale.get(reverse("exams:catalogue")).status_code == 302  # back to the login page


def test_wrong_password_says_so_without_revealing_which_part():
    user = UserFactory()
    response = login(Client(), user.username, "wrong-password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_password_change():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": "brand-new-secret-42", "new_password2": "brand-new-secret-42"},
    )
    assert response.url == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password("brand-new-secret-42")


def test_password_reset_by_email_end_to_end():
    user = UserFactory(email="reset@example.com")
    client = Client()
    response = client.post(reverse("accounts:password_reset"), {"email": "reset@example.com"})
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0], {"new_password1": "reset-secret-777", "new_password2": "reset-secret-777"}
    )
    assert done.url == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("reset-secret-777")


def test_logins_are_throttled_after_five_failures():
    user = UserFactory()
    client = Client()
    for _ in range(5):
        login(client, user.username, "wrong")
    locked = login(client, user.username)  # even the right password is refused during the cool-off
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()


@override_settings(DEBUG=False)
def test_demo_accounts_are_refused_outside_development():
    with pytest.raises(CommandError, match="only in development"):
        call_command("create_demo_accounts")
    assert not User.objects.exists()


@override_settings(DEBUG=True)
def test_demo_accounts_in_development_are_idempotent(capsys):
    call_command("create_demo_accounts")
    call_command("create_demo_accounts")
    assert set(User.objects.values_list("username", "role")) == {("learner", "learner"), ("instructor", "instructor")}
    assert "learner-demo-pass" in capsys.readouterr().out


def test_an_htmx_request_after_the_session_ended_navigates_to_login():
    """An autosave from a page whose session has ended must not swap the login page into the save status."""
    response = Client().post(
        "/attempts/00000000-0000-0000-0000-000000000000/questions/1/answer/",
        {"choice": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/attempts/x/questions/1/",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/attempts/x/questions/1/"


def test_a_stale_csrf_token_on_a_plain_form_gets_a_page_that_explains():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403 and "This page has expired" in response.content.decode()
