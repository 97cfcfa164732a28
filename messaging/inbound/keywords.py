"""Keywords, matched the way carriers match them.

The whole message counts, after trimming, case-folding and dropping
punctuation: "Stop." is STOP, "please stop" is a conversation. Consent words
(STOP, START, HELP) are fixed; the delivery-window words (PAUSE_KEYWORDS,
RESUME_KEYWORDS, TIME_KEYWORD) are settings and take an argument: "PAUSE 3",
"TIME 7:30pm".
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from django.conf import settings

from subscribers.delivery_window import PAUSE_DAYS


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
    if keyword == Keyword.HELP:
        return help_text()
    return {
        Keyword.OPT_OUT: settings.KEYWORD_REPLY_STOP,
        Keyword.OPT_IN: settings.KEYWORD_REPLY_START,
    }[keyword]


def help_text() -> str:
    """KEYWORD_REPLY_HELP with its {pause}, {resume} and {time} words filled in."""
    words = {
        "{pause}": settings.PAUSE_KEYWORDS[0],
        "{resume}": settings.RESUME_KEYWORDS[0],
        "{time}": settings.TIME_KEYWORD,
    }
    text = settings.KEYWORD_REPLY_HELP
    for placeholder, word in words.items():
        text = text.replace(placeholder, word.upper())
    return text


class Window(StrEnum):
    PAUSE = "pause"
    RESUME = "resume"
    TIME = "time"


@dataclass(frozen=True)
class WindowCommand:
    """PAUSE [days], RESUME or TIME <clock>; valid False: an argument out of range or
    not understood (answered with the help text)."""

    command: Window
    days: int | None = None
    clock: time | None = None
    valid: bool = True


def window_command(text: str) -> WindowCommand | None:
    """The delivery-window command the whole of text is, or None.

    A keyword with one word after it that is not a valid argument ("PAUSE 400",
    "TIME soon") is still the command, answered with the help text; with more
    words ("time is short") it is a conversation.
    """
    first, _, rest = normalize(text).partition(" ")
    found = _window(first, rest)
    if found is None or found.valid or len(rest.split()) <= 1:
        return found
    return None


def _window(first: str, rest: str) -> WindowCommand | None:
    if first in {normalize(w) for w in settings.PAUSE_KEYWORDS}:
        if not rest:
            return WindowCommand(Window.PAUSE)
        days = int(rest) if rest.isdigit() else None
        return WindowCommand(Window.PAUSE, days=days, valid=days in PAUSE_DAYS)
    if first in {normalize(w) for w in settings.RESUME_KEYWORDS}:
        return WindowCommand(Window.RESUME, valid=not rest)
    if first == normalize(settings.TIME_KEYWORD):
        clock = parse_time(rest)
        return WindowCommand(Window.TIME, clock=clock, valid=clock is not None)
    return None


# After normalize() the colon and dots are gone: "7:30 p.m." arrives as "730 pm".
_TIME = re.compile(r"(?P<digits>\d{1,4}) ?(?P<half>am|pm|a|p)?")


def parse_time(words: str) -> time | None:
    """'7', '7pm', '730pm', '7 30 pm', '1930', '19' (normalized) as a time; else None."""
    found = _TIME.fullmatch(re.sub(r"(?<=\d) (?=\d)", "", words))
    if found is None:
        return None
    digits, half = found["digits"], found["half"]
    hour, minute = (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
    if half:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
