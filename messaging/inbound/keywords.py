"""Consent keywords, matched the way carriers match them.

The whole message counts, after trimming, case-folding and dropping
punctuation: "Stop." is STOP, "please stop" is a conversation.
"""

import unicodedata
from enum import StrEnum

from django.conf import settings


class Keyword(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# ARRET, OPT-OUT, REMOVE and TD are the extra words AWS SNS honours.
OPT_OUT_WORDS = (
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",
    "ARRET", "OPT-OUT", "REMOVE", "TD",
)  # fmt: skip
OPT_IN_WORDS = ("START", "YES", "UNSTOP")
HELP_WORDS = ("HELP", "INFO")


def normalize(text: str) -> str:
    """Case-folded words without punctuation, single-spaced."""
    kept = "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
    return " ".join(kept.casefold().split())


_FIXED = {
    **{normalize(w): Keyword.OPT_OUT for w in OPT_OUT_WORDS},
    **{normalize(w): Keyword.OPT_IN for w in OPT_IN_WORDS},
    **{normalize(w): Keyword.HELP for w in HELP_WORDS},
}


def match(text: str) -> Keyword | None:
    """The keyword the whole of text is, or None for anything else."""
    words = normalize(text)
    if words in _FIXED:
        return _FIXED[words]
    if words == normalize(f"JOIN {settings.JOIN_KEYWORD}"):
        return Keyword.OPT_IN
    return None


def reply_text(keyword: Keyword) -> str:
    """The confirmation the keyword is answered with (settings KEYWORD_REPLY_*)."""
    return {
        Keyword.OPT_OUT: settings.KEYWORD_REPLY_STOP,
        Keyword.OPT_IN: settings.KEYWORD_REPLY_START,
        Keyword.HELP: settings.KEYWORD_REPLY_HELP,
    }[keyword]
