"""The health probes, answered whatever Host they name.

A load balancer probes each target by its address: an Application Load Balancer's
health check sends Host: 10.0.1.23:8000 (the task's private IP, new with every task),
which is never in DJANGO_ALLOWED_HOSTS. Django would answer 400 and every task would
count as unhealthy, so ECS's circuit breaker would roll back every deploy. The probes
build no URL from the Host and set no cookie, so they are answered before host
validation and before an HTTPS redirect (the probe is plain HTTP inside the VPC).
Every other path still goes through the whole stack.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from smsbot import views

PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz/": views.healthz,
    "/readyz/": views.readyz,
}


class ProbeMiddleware:
    """First in MIDDLEWARE: /healthz/ and /readyz/ go straight to their views."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None:
            return probe(request)
        return self.get_response(request)
