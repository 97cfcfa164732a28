"""Segment splitting at the boundaries, against a reference splitter written differently.

The reference works on the encoded stream, as a handset's SMS stack does: GSM-7
text as septets (an extension character is an ESC septet and its own), UCS-2 as
UTF-16 code units. It cuts every 153 septets (67 units) and moves a dangling ESC
septet or high surrogate into the next part. The portal's splitter works on
characters and their widths; the two must agree on every generated text.
"""

import random

import pytest

from messaging.billing import segments

ESC = "\x1b-escape"
EXTENDED = sorted(segments.GSM7_EXTENDED)
BASIC = sorted(segments.GSM7_BASIC - {"\x1b"})
NON_GSM_BMP = ["ש", "’", "ж", "中", "\u00a0", "ą"]
ASTRAL = ["😀", "🙂", "👍", "𝄞", "🇺"]
TEXTS_PER_BOUNDARY = 10_000


def reference_gsm7(text: str) -> list[str]:
    septets: list[str] = []
    for ch in text:
        if ch in segments.GSM7_EXTENDED:
            septets.append(ESC)
        septets.append(ch)
    if len(septets) <= 160:
        return [text]
    parts, current = [], []
    for septet in septets:
        current.append(septet)
        if len(current) == 153:
            carried = [current.pop()] if current[-1] == ESC else []
            parts.append(current)
            current = carried
    if current:
        parts.append(current)
    return ["".join(s for s in part if s != ESC) for part in parts]


def reference_ucs2(text: str) -> list[str]:
    data = text.encode("utf-16-be", "surrogatepass")
    units = [data[i : i + 2] for i in range(0, len(data), 2)]
    if len(units) <= 70:
        return [text]
    parts, current = [], []
    for unit in units:
        current.append(unit)
        if len(current) == 67:
            high_surrogate = 0xD8 <= current[-1][0] <= 0xDB
            carried = [current.pop()] if high_surrogate else []
            parts.append(current)
            current = carried
    if current:
        parts.append(current)
    return [b"".join(part).decode("utf-16-be") for part in parts]


def around(rng: random.Random, boundary: int) -> int:
    return max(1, boundary + rng.randint(-3, 3))


def gsm7_text(rng: random.Random, units: int) -> str:
    """About `units` septets, with extension characters often right at a part's edge."""
    chars: list[str] = []
    used = 0
    edges = {153 * k - offset for k in range(1, 8) for offset in (0, 1)} | {159, 160}
    while used < units:
        extended = rng.random() < (0.6 if used + 1 in edges or used + 2 in edges else 0.05)
        chars.append(rng.choice(EXTENDED) if extended else rng.choice(BASIC))
        used += 2 if extended else 1
    return "".join(chars)


def ucs2_text(rng: random.Random, units: int) -> str:
    """About `units` UTF-16 code units, with surrogate pairs often straddling an edge."""
    chars: list[str] = [rng.choice(NON_GSM_BMP)]  # at least one: the text is UCS-2
    used = 1
    edges = {67 * k - offset for k in range(1, 12) for offset in (0, 1)} | {69, 70}
    while used < units:
        astral = rng.random() < (0.6 if used + 1 in edges or used + 2 in edges else 0.1)
        chars.append(rng.choice(ASTRAL) if astral else rng.choice(NON_GSM_BMP + BASIC))
        used += 2 if astral else 1
    swap = rng.randrange(len(chars))  # the forcing character anywhere, not always first
    chars[0], chars[swap] = chars[swap], chars[0]
    return "".join(chars)


def boundary_texts(kind: str) -> list[str]:
    rng = random.Random(f"segments-{kind}")
    if kind == "gsm7-single":
        return [gsm7_text(rng, around(rng, 160)) for _ in range(TEXTS_PER_BOUNDARY)]
    if kind == "gsm7-parts":
        return [
            gsm7_text(rng, around(rng, 153 * rng.randint(1, 6))) for _ in range(TEXTS_PER_BOUNDARY)
        ]
    if kind == "ucs2-single":
        return [ucs2_text(rng, around(rng, 70)) for _ in range(TEXTS_PER_BOUNDARY)]
    return [ucs2_text(rng, around(rng, 67 * rng.randint(1, 10))) for _ in range(TEXTS_PER_BOUNDARY)]


@pytest.mark.parametrize("kind", ["gsm7-single", "gsm7-parts", "ucs2-single", "ucs2-parts"])
def test_the_splitter_agrees_with_the_reference_around_every_boundary(kind):
    reference = reference_gsm7 if kind.startswith("gsm7") else reference_ucs2
    encoding = "GSM-7" if kind.startswith("gsm7") else "UCS-2"
    multipart = 0
    for text in boundary_texts(kind):
        parts = segments.split(text)
        info = segments.count(text)
        assert parts == reference(text), text
        assert "".join(parts) == text
        assert (info.encoding, info.segments) == (encoding, len(parts)), text
        multipart += len(parts) > 1
    # The generator really straddles the single-message limit and the part edges.
    assert 0.2 < multipart / TEXTS_PER_BOUNDARY <= 1


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("a" * 152 + "€" + "a" * 152, 3),  # the escape pair moves whole into part two
        ("a" * 153 + "€" + "a" * 151, 2),  # ...but fits when the first part is full of 'a'
        ("a" * 66 + "😀" + "a" * 66, 3),  # the surrogate pair moves whole into part two
        ("a" * 67 + "😀" + "a" * 65, 2),
        ("€" * 80, 1),
        ("😀" * 35, 1),
    ],
)
def test_pairs_are_never_split(text, parts):
    assert segments.count(text).segments == parts
    assert len(segments.split(text)) == parts


def test_every_part_fits_its_limit():
    text = ("[x]" * 60) + "😀" * 40
    for part in segments.split(text):
        assert len(part.encode("utf-16-le")) // 2 <= 67
    gsm = "{" * 200
    assert [sum(2 for _ in p) for p in segments.split(gsm)] == [152, 152, 96]
