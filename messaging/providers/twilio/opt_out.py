"""Twilio's own opt-out handling: which inbound keywords Twilio has already answered.

On SMS, Twilio answers the standard keywords itself (default opt-out handling on long
codes and toll-free numbers, or Advanced Opt-Out on a Messaging Service) and, after an
opt-out, refuses every send to the number with error 21610 until it opts back in.
With Advanced Opt-Out, the inbound webhook carries OptOutType = STOP / START / HELP,
also for the custom keywords configured in Twilio's console: that parameter is the only
way the portal learns of those. Twilio recognises a keyword only when it is the whole
body, in any case ("sToP" is STOP, "Stop please" and "Stop." are not).

WhatsApp has no such handling on Twilio's side: the portal answers there.
"""

from django.conf import settings

from messaging.inbound.keywords import Keyword

OPT_OUT_TYPE = "OptOutType"
_BY_TYPE = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}

# Twilio's default keywords (its "Advanced Opt-Out" tutorial and support article on
# opt-out keywords).
_DEFAULT_WORDS = {
    **dict.fromkeys(
        ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
        Keyword.OPT_OUT,
    ),
    **dict.fromkeys(("START", "YES", "UNSTOP"), Keyword.OPT_IN),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}


def evidence(data: dict[str, str], answered: Keyword | None) -> dict[str, str]:
    """What Twilio said about the keyword, kept with the consent change's evidence."""
    kept = {"opt_out_type": data[OPT_OUT_TYPE][:20]} if data.get(OPT_OUT_TYPE) else {}
    return kept | ({"answered_by": "twilio"} if answered else {})


def answered_by_twilio(data: dict[str, str]) -> Keyword | None:
    """The keyword Twilio itself answered for this inbound webhook, or None when the
    portal must answer.

    OptOutType proves Twilio handled the message whatever the setting says; without it,
    TWILIO_OPT_OUT_HANDLING=twilio means Twilio's default keywords were answered on SMS.
    """
    if data.get("From", "").startswith("whatsapp:"):
        return None
    # Exactly as Twilio sends it: the parameter changes consent on its own word.
    declared = _BY_TYPE.get(data.get(OPT_OUT_TYPE, ""))
    if declared is not None:
        return declared
    if settings.TWILIO_OPT_OUT_HANDLING != "twilio":
        return None
    return _DEFAULT_WORDS.get(data.get("Body", "").strip().upper())
