"""The load benchmark's baseline views ship only with its own settings (bench/load/), never with the app."""

import pytest
from django.test import Client, override_settings
from django.urls import Resolver404, resolve


def test_the_app_urlconf_has_no_baseline_view():
    with pytest.raises(Resolver404):
        resolve("/bench/bare/", urlconf="config.urls")


def test_the_benchmark_urlconf_is_the_app_plus_the_baseline():
    assert resolve("/bench/bare/", urlconf="bench.load.urls").url_name == "bench-bare"
    assert resolve("/accounts/login/", urlconf="bench.load.urls").url_name == "login"


@override_settings(ROOT_URLCONF="bench.load.urls")
def test_the_bare_post_goes_through_login_and_the_csrf_check_like_an_autosave(learner):
    client = Client(enforce_csrf_checks=True)
    assert client.get("/bench/bare/").status_code == 302  # to the login page
    client.force_login(learner)
    assert client.post("/bench/bare/").status_code == 403
    token = "a" * 32  # a CSRF secret as the cookie holds it; the header may carry it unmasked
    client.cookies["csrftoken"] = token
    response = client.post("/bench/bare/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.content == f"ok POST {learner.pk}".encode()
