"""The consent proof on the subscriber page: a link to its print-ready page (and JSON),
and each STOP with the broadcast that preceded it (stored when the STOP arrived)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from messaging.models import Direction, Message
from messaging.reports import consent_proof
from subscribers import hooks
from subscribers.history import when
from subscribers.models import ConsentSource, ConsentStatus, Subscriber

READ_CONSENT = "subscribers.view_consentevent"
KEYWORD_SOURCES = (ConsentSource.SMS_KEYWORD, ConsentSource.WHATSAPP_KEYWORD)
STOPS_SHOWN = 20


def proof_view(model_admin: Any, request: HttpRequest, subscriber_id: int) -> HttpResponse:
    if not request.user.has_perm(READ_CONSENT):
        raise PermissionDenied
    subscriber = get_object_or_404(Subscriber, pk=subscriber_id)
    document = consent_proof.proof(subscriber)
    if request.GET.get("format") == "json":
        return JsonResponse(document, json_dumps_params={"indent": 2, "ensure_ascii": False})
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Consent proof: {document.get('phone') or f'subscriber {subscriber.pk}'}",
        "proof": document,
        "json_url": f"{request.path}?format=json",
    }
    return TemplateResponse(request, "admin/messaging/consent_proof.html", context)


def stops_after_broadcasts(subscriber: Subscriber) -> list[dict[str, Any]]:
    """The number's STOPs by keyword, newest first, each with the broadcast before it."""
    events = list(
        subscriber.consent_events.filter(
            to_status=ConsentStatus.OPTED_OUT, source__in=KEYWORD_SOURCES
        ).order_by("-created_at", "-id")[:STOPS_SHOWN]
    )
    ids = [e.evidence.get("message_id") for e in events if isinstance(e.evidence, dict)]
    inbounds = {
        m.provider_message_id: m
        for m in Message.objects.filter(
            direction=Direction.INBOUND, provider_message_id__in=[i for i in ids if i]
        ).select_related("after_broadcast")
    }
    rows = []
    for event in events:
        inbound = inbounds.get(event.evidence.get("message_id")) if event.evidence else None
        broadcast = inbound.after_broadcast if inbound else None
        rows.append(
            {
                "when": when(event.created_at),
                "broadcast": broadcast,
                "url": reverse("admin:messaging_broadcast_change", args=[broadcast.pk])
                if broadcast
                else "",
            }
        )
    return rows


@hooks.add_subscriber_panel
def consent_proof_panel(request: HttpRequest, subscriber: Subscriber) -> hooks.Panel | None:
    if not request.user.has_perm(READ_CONSENT):
        return None
    context = {
        "proof_url": reverse("admin:messaging_message_consent_proof", args=[subscriber.pk]),
        "stops": [] if subscriber.erased_at else stops_after_broadcasts(subscriber),
    }
    return hooks.Panel("admin/messaging/consent_proof_panel.html", context)
