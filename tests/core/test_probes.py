"""A load balancer's health check names the task's IP as Host (issue 23: ECS's circuit
breaker rolls back a revision whose targets fail it): the probes answer it, nothing else
does."""

import pytest

TASK_ADDRESS = "10.0.1.23:8000"


@pytest.fixture
def behind_a_load_balancer(settings):
    # What an operator sets for the ECS hosting: the portal's own name, HTTPS enforced.
    settings.ALLOWED_HOSTS = ["portal.example.org"]
    settings.SECURE_SSL_REDIRECT = True


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz/", "/readyz/"])
def test_a_probe_by_the_tasks_address_is_answered(client, behind_a_load_balancer, path):
    response = client.get(path, HTTP_HOST=TASK_ADDRESS)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_container_health_check_by_loopback_is_answered(client, behind_a_load_balancer):
    # The task definition's health check: curl http://127.0.0.1:8000/readyz/
    assert client.get("/readyz/", HTTP_HOST="127.0.0.1:8000").status_code == 200


@pytest.mark.django_db
def test_a_probe_still_says_when_it_is_not_ready(client, behind_a_load_balancer, broker_down):
    response = client.get("/readyz/", HTTP_HOST=TASK_ADDRESS)
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/healthz", "/readyz/x"])
def test_every_other_path_still_refuses_that_host(client, behind_a_load_balancer, path):
    assert client.get(path, HTTP_HOST=TASK_ADDRESS).status_code == 400


@pytest.mark.django_db
def test_a_probe_takes_only_get(client, behind_a_load_balancer):
    assert client.post("/readyz/", HTTP_HOST=TASK_ADDRESS).status_code == 405


@pytest.mark.django_db
def test_the_portals_own_name_is_still_sent_to_https(client, behind_a_load_balancer):
    response = client.get("/admin/login/", HTTP_HOST="portal.example.org")
    assert response.status_code == 301
    assert response["Location"].startswith("https://portal.example.org/")
