"""Registering webhook endpoints: who may, what is refused (SSRF, unknown events), the secret
shown once, and the backoff schedule."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from returns_service.integrations.delivery import retry_delay
from returns_service.integrations.ssrf import TargetRefused, check_target


def create(api: Any, url: str, *, as_: str = "admin", **extra: Any) -> Any:
    return api.post("/api/v1/webhook-endpoints", as_=as_,
                    json={"url": url, "event_types": ["return.approved"], **extra})


class TestPrivateTargetsRefused:
    """The default: WEBHOOK_ALLOW_PRIVATE_TARGETS off."""

    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        app_config["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = False
        return app_config

    @pytest.mark.parametrize("url", [
        "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/hook",
        "http://192.168.0.10/hook", "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/hook"])
    def test_private_loopback_and_link_local_targets_are_refused(self, api, url):
        response = create(api, url)
        assert response.status_code == 422, response.json
        assert "WEBHOOK_ALLOW_PRIVATE_TARGETS" in response.json["errors"]["url"][0]
        assert api.get("/api/v1/webhook-endpoints", as_="admin").json["items"] == []

    @pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd",
                                     "http://user:pw@example.com/x", "not a url"])
    def test_other_schemes_and_credentials_are_refused(self, api, url):
        assert create(api, url).status_code == 422

    def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery_too(self):
        with pytest.raises(TargetRefused, match="private, loopback"):
            check_target("http://localhost:9/x", allow_private=False)
        check_target("http://localhost:9/x", allow_private=True)  # allowed by the setting


def test_loopback_is_allowed_with_the_setting_and_the_secret_is_shown_once(api):
    made = api.post("/api/v1/webhook-endpoints", as_="admin", json={
        "url": "http://127.0.0.1:9/hook", "event_types": ["return.received"],
        "description": "inventory"})
    assert made.status_code == 201, made.json
    assert made.json["secret"].startswith("whsec_")
    shown = api.get(f"/api/v1/webhook-endpoints/{made.json['id']}", as_="admin").json
    listed = api.get("/api/v1/webhook-endpoints", as_="admin").json["items"]
    assert "secret" not in shown and all("secret" not in e for e in listed)
    assert made.json["secret"] not in str(shown) + str(listed)
    assert (shown["description"], shown["event_types"]) == ("inventory", ["return.received"])


def test_disabling_and_re_enabling(api):
    made = api.post("/api/v1/webhook-endpoints", as_="admin", json={
        "url": "http://127.0.0.1:9/hook", "event_types": ["*"]}).json
    off = api.call("PATCH", f"/api/v1/webhook-endpoints/{made['id']}", as_="admin",
                   json={"enabled": False})
    assert (off.status_code, off.json["enabled"]) == (200, False)
    test = api.post(f"/api/v1/webhook-endpoints/{made['id']}/test", as_="integration")
    assert test.status_code == 422  # a disabled endpoint gets nothing
    on = api.call("PATCH", f"/api/v1/webhook-endpoints/{made['id']}", as_="admin",
                  json={"enabled": True})
    assert (on.json["enabled"], on.json["disabled_reason"]) == (True, None)


def test_unknown_event_types_are_refused(api):
    response = api.post("/api/v1/webhook-endpoints", as_="admin", json={
        "url": "https://hooks.example.com/x", "event_types": ["return.exploded"]})
    assert response.status_code == 422
    assert "return.exploded" in response.json["errors"]["event_types"][0]


@pytest.mark.parametrize(("role", "method", "path", "status"), [
    ("agent", "POST", "/api/v1/webhook-endpoints", 403),
    ("integration", "POST", "/api/v1/webhook-endpoints", 403),
    ("warehouse", "GET", "/api/v1/webhook-endpoints", 403),
    ("integration", "GET", "/api/v1/webhook-endpoints", 200),
    (None, "GET", "/api/v1/webhook-endpoints", 401),
])
def test_who_may(api, role, method, path, status):
    response = api.call(method, path, as_=role,
                        json={"url": "https://hooks.example.com/x", "event_types": ["*"]}
                        if method == "POST" else None)
    assert response.status_code == status


def test_backoff_grows_exponentially_with_jitter_up_to_six_hours():
    rng = random.Random(7)
    nominal = [5, 20, 80, 320, 1280, 5120, 20480, 21600, 21600]
    for attempts, seconds in enumerate(nominal, start=1):
        delay = retry_delay(attempts, rng)
        assert timedelta(seconds=seconds * 0.75) <= delay <= timedelta(seconds=seconds * 1.25)
    draws = {retry_delay(3, rng) for _ in range(20)}
    assert len(draws) > 1  # jittered: retries of many events spread out
