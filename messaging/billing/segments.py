"""SMS segments: GSM-7 (with its extension table) versus UCS-2, split as carriers do.

A long text goes as concatenated parts, and a part never ends half-way through an
escape pair or a surrogate pair, so the count is not simply units / 153 (or 67):
'a' * 152 + '€' + 'a' * 152 is 3 parts. split() gives the parts, count() the
figures the estimate and the budget use; both follow the one rule in _part_ends.
"""

from dataclasses import dataclass
from functools import lru_cache

# GSM 03.38 basic character set.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each of these takes two septets (escape + character).
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")

# Characters that look like plain text but force UCS-2: worth a warning.
LOOKALIKES = {
    "\u00a0": "non-breaking space",
    "\u2018": "curly quote ‘",
    "\u2019": "curly quote ’",
    "\u201c": "curly quote “",
    "\u201d": "curly quote ”",
    "\u2013": "en dash –",
    "\u2014": "em dash —",
    "\u2026": "ellipsis …",
    "\u200b": "zero-width space",
}


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    per_segment: int
    forcing_ucs2: tuple[str, ...] = ()  # lookalike characters that forced UCS-2

    @property
    def warnings(self) -> list[str]:
        notes = []
        if self.forcing_ucs2:
            notes.append(
                "forced into UCS-2 (70 characters a segment) by: " + ", ".join(self.forcing_ucs2)
            )
        if self.segments > 1:
            notes.append(f"needs {self.segments} segments, each charged separately")
        return notes


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


# (units in a single SMS, units per part of a longer one). Per 3GPP TS 23.040 a
# concatenated SMS gives up the room of its user data header in every part: 153 of
# 160 septets for GSM-7, 67 of 70 UTF-16 code units for UCS-2.
LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


def _unit_widths(text: str) -> tuple[str, list[int]]:
    """The encoding text needs and the width of each character in it.

    A width is what the character takes and what may not be split across parts:
    an extension-table character is an escape septet plus its own, and a
    character outside the Basic Multilingual Plane (an emoji) is a UTF-16
    surrogate pair. Handsets and carriers refuse a part that ends half-way
    through either, so senders (Twilio and AWS alike) move the pair whole into
    the next part.
    """
    if is_gsm7(text):
        return "GSM-7", [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    return "UCS-2", [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _part_ends(widths: list[int], per_part: int) -> list[int]:
    """Character offsets where each part ends, filling every part as far as it goes."""
    ends, used = [], 0
    for index, width in enumerate(widths):
        if used + width > per_part:
            ends.append(index)
            used = 0
        used += width
    ends.append(len(widths))
    return ends


def split(text: str) -> list[str]:
    """The parts text is sent as: one if it fits a single SMS, else 153/67-unit parts."""
    encoding, widths = _unit_widths(text)
    single, per_part = LIMITS[encoding]
    if sum(widths) <= single:
        return [text]
    parts, start = [], 0
    for end in _part_ends(widths, per_part):
        parts.append(text[start:end])
        start = end
    return parts


# A fan-out prices one text for every recipient (build and its estimate each ask).
@lru_cache(maxsize=64)
def count(text: str) -> SegmentInfo:
    """How many segments text needs: 160/153 for GSM-7, 70/67 for UCS-2, no pair split."""
    encoding, widths = _unit_widths(text)
    units = sum(widths)
    single, multi = LIMITS[encoding]
    forcing: tuple[str, ...] = ()
    if encoding == "UCS-2":
        non_gsm = {ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED}
        forcing = tuple(LOOKALIKES[ch] for ch in sorted(non_gsm) if ch in LOOKALIKES)
        if non_gsm - set(LOOKALIKES):
            forcing = ()  # genuinely non-GSM text (emoji, other scripts): not a stray character
    if units <= single:
        return SegmentInfo(encoding, units, 1, single, forcing)
    return SegmentInfo(encoding, units, len(_part_ends(widths, multi)), multi, forcing)
