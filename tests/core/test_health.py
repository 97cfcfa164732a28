import logging
import time

import pytest


@pytest.mark.django_db
def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_names_each_check_and_is_ready(client):
    response = client.get("/readyz/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    # Each check by name and its state, nothing else (no timings: see the security tests).
    assert body["checks"] == {"database": {"ok": True}, "broker": {"ok": True}}


@pytest.mark.django_db
def test_readyz_timings_go_to_the_log(client, caplog):
    caplog.set_level(logging.DEBUG, logger="smsbot.health")
    assert client.get("/readyz/").status_code == 200
    logged = [r.getMessage() for r in caplog.records if r.name == "smsbot.health"]
    assert any(m.startswith("readiness check database passed in ") for m in logged), logged
    assert any(m.startswith("readiness check broker passed in ") for m in logged), logged


@pytest.mark.django_db
def test_readyz_is_503_when_the_broker_is_down(client, broker_down):
    started = time.monotonic()
    response = client.get("/readyz/")
    elapsed = time.monotonic() - started
    body = response.json()
    assert response.status_code == 503
    assert body == {
        "status": "unavailable",
        "checks": {"database": {"ok": True}, "broker": {"ok": False}},
    }
    # Short timeouts: a dead broker must not hold the load balancer's probe.
    assert elapsed < 5


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_is_down(client, settings):
    from django.db import connections

    conn = connections["default"]
    if conn.vendor == "sqlite":
        # A SQLite file that cannot be opened is the laptop's "database down".
        settings_dict = dict(conn.settings_dict, NAME="/nonexistent-dir/db.sqlite3")
    else:
        settings_dict = dict(conn.settings_dict, PORT="1", OPTIONS={"connect_timeout": 1})
    conn.close()
    saved = conn.settings_dict
    conn.settings_dict = settings_dict
    try:
        response = client.get("/readyz/")
    finally:
        conn.close()
        conn.settings_dict = saved
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["database"]["ok"] is False


def test_health_endpoints_refuse_post(client):
    assert client.post("/healthz/").status_code == 405
