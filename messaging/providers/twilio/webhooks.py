"""Twilio's "a message comes in" webhook and its status callback."""

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from twilio.twiml.messaging_response import MessagingResponse

from messaging.delivery import reports as delivery
from messaging.inbound import pipeline as inbound
from messaging.models import Message, Provider
from messaging.providers.twilio import opt_out
from messaging.providers.twilio.send import MESSAGE_ID_PARAM, status_callback
from messaging.providers.twilio.signature import form, twilio_webhook


def twiml(text: str, reply: Message | None = None) -> HttpResponse:
    """The answer in TwiML. Twilio posts the answer's own status to its action URL (the
    status callback, naming the recorded reply), so an answer Twilio refuses (21610: a
    number that opted out at Twilio without the portal hearing of it) ends failed, not
    sent."""
    response = MessagingResponse()
    if text and reply is not None:
        response.message(text, action=status_callback(reply), method="POST")
    elif text:
        response.message(text)
    return HttpResponse(str(response), content_type="text/xml")


@twilio_webhook
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    data = form(request)
    answered = opt_out.answered_by_twilio(data)
    try:
        outcome = inbound.receive(
            inbound.Inbound(
                provider=Provider.TWILIO,
                message_id=data.get("MessageSid") or data.get("SmsSid", ""),
                sender=data.get("From", ""),
                recipient=data.get("To", ""),
                text=data.get("Body", ""),
                answered_keyword=answered,
                evidence=opt_out.evidence(data, answered),
            )
        )
    except inbound.InvalidInbound as exc:
        return HttpResponseBadRequest(str(exc))
    return twiml(outcome.answer, outcome.reply)


@twilio_webhook
def twilio_status(request: HttpRequest) -> HttpResponse:
    data = form(request)
    sid = data.get("MessageSid") or data.get("SmsSid", "")
    status = data.get("MessageStatus") or data.get("SmsStatus", "")
    if not sid or len(sid) > inbound.MAX_ID_LENGTH or not status:
        raise BadRequest("MessageSid and MessageStatus are required")
    ours = request.GET.get(MESSAGE_ID_PARAM, "")
    # ASCII digits only ("²".isdigit() is True) and within a bigint.
    if ours and not (ours.isascii() and ours.isdigit() and len(ours) <= 18):
        return HttpResponseBadRequest(f"{MESSAGE_ID_PARAM} must be a message id")
    error = data.get("ErrorCode", "")[:20]
    price = data.get("Price", "")
    delivery.apply(
        delivery.Report(
            provider=Provider.TWILIO,
            provider_message_id=sid,
            status=status[:20],
            dedupe_key=f"twilio:{sid}:{status[:20]}:{error}",
            error_code=error,
            price=delivery.parse_price(price) if price else None,
            price_unit=data.get("PriceUnit", ""),
            payload=data,
            message_id=int(ours) if ours else None,
        )
    )
    return HttpResponse(status=204)
