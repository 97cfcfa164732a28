"""SMS segment counting: GSM-7 (with its extension table) versus UCS-2."""

from dataclasses import dataclass

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


def count(text: str) -> SegmentInfo:
    """How many segments text needs: 160/153 for GSM-7, 70/67 for UCS-2."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
        forcing: tuple[str, ...] = ()
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
        non_gsm = {ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED}
        forcing = tuple(LOOKALIKES[ch] for ch in sorted(non_gsm) if ch in LOOKALIKES)
        if non_gsm - set(LOOKALIKES):
            forcing = ()  # genuinely non-GSM text (emoji, other scripts): not a stray character
    if units <= single:
        return SegmentInfo(encoding, units, 1, single, forcing)
    segments = -(-units // multi)
    return SegmentInfo(encoding, units, segments, multi, forcing)
