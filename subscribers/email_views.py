"""The two doors an e-mail opens: confirming an address, and unsubscribing it.

GET only shows what the button will do (mail scanners follow links); the POST
acts. The unsubscribe POST is also RFC 8058's one-click request a mailbox
provider sends ("List-Unsubscribe=One-Click" in the body): it opts the address
out at once, without a login or a second click, and keeps the request as evidence.
"""

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from subscribers.consent import ConsentError, change
from subscribers.email_links import LinkProblem, read_confirmation, read_unsubscribe
from subscribers.models import ConsentSource, ConsentStatus
from subscribers.views import client_evidence, database_failure, problem

# A token is a few dozen characters; anything far longer is not one of ours.
TOKEN_CHARS = 400


def _link_problem(request: HttpRequest, exc: LinkProblem) -> HttpResponse:
    return problem(request, "This link does nothing now", str(exc), 400)


def _evidence(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {**client_evidence(request), "clicked_at": timezone.now().isoformat(), **extra}


@csrf_exempt  # the token is the proof; the page is reached from an e-mail, not a session
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if len(token) > TOKEN_CHARS:
            raise LinkProblem("This link is not valid: it may have been cut or changed.")
        found = read_confirmation(token)
    except LinkProblem as exc:
        return _link_problem(request, exc)
    context = {"email": found.subscriber.email}
    if request.method == "GET":
        return render(request, "subscribers/email_confirm.html", context)
    evidence = _evidence(request, confirms_event=found.event.pk, link="confirmation")
    try:
        change(
            found.subscriber.phone,
            ConsentStatus.OPTED_IN,
            ConsentSource.EMAIL_LINK,
            evidence,
            email="",
        )
    except ConsentError as exc:
        return problem(request, "This link does nothing now", str(exc), 400)
    except DatabaseError as exc:
        database_failure(request, exc)
        return problem(request, "Please try again", "Nothing was saved just now.", 503)
    return render(request, "subscribers/email_confirmed.html", context)


@csrf_exempt  # RFC 8058: the mailbox provider posts without a session or a form token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        if len(token) > TOKEN_CHARS:
            raise LinkProblem("This link is not valid: it may have been cut or changed.")
        subscriber = read_unsubscribe(token)
    except LinkProblem as exc:
        return _link_problem(request, exc)
    context = {"email": subscriber.email}
    if request.method == "GET":
        return render(request, "subscribers/email_unsubscribe.html", context)
    one_click = request.POST.get("List-Unsubscribe") == "One-Click"
    evidence = _evidence(request, link="unsubscribe", one_click=one_click)
    if subscriber.email_status != ConsentStatus.OPTED_OUT:
        try:
            change(
                subscriber.phone,
                ConsentStatus.OPTED_OUT,
                ConsentSource.EMAIL_LINK,
                evidence,
                email="",
            )
        except DatabaseError as exc:
            database_failure(request, exc)
            return problem(request, "Please try again", "Nothing was saved just now.", 503)
    return render(request, "subscribers/email_unsubscribed.html", context)
