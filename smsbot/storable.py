"""Data from the outside made storable: PostgreSQL rejects NUL, lone surrogates and NaN.

Two ways: clean_* repair what a third party sent (evidence is kept, minus what
cannot be stored); load_json refuses a JSON document a person typed or a
partner posted, with the reason (NotStorable), so they can correct it.
"""

import json
import math
from typing import Any


class NotStorable(ValueError):
    """The document cannot be stored as given; str(exc) says why, for the person who sent it."""


def clean_text(text: str) -> str:
    """Text the database can store: no NUL, no lone surrogates (from bad JSON escapes)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def field_text(data: dict[str, Any], key: str) -> str:
    """A scalar field of a JSON object as storable text; "" when absent or not a scalar."""
    value = data.get(key)
    return "" if value is None or isinstance(value, dict | list) else clean_text(str(value))


def clean_data(data: Any) -> Any:
    """clean_text for every string of a JSON-like structure (keys too); NaN becomes None."""
    if isinstance(data, dict):
        return {clean_text(str(k)): clean_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [clean_data(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return clean_text(data) if isinstance(data, str) else data


def load_json(document: str | bytes, max_depth: int) -> Any:
    """The JSON document, refused (NotStorable) when it is not JSON or could not be
    stored as sent: NaN/Infinity, a number too large for a float, NUL, a lone
    surrogate, or nesting deeper than max_depth."""
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotStorable("malformed JSON: the body is not UTF-8") from exc
    try:
        data = json.loads(document, parse_constant=_no_constant, parse_float=_finite_float)
    except NotStorable:
        raise
    except RecursionError as exc:
        raise NotStorable(f"JSON nested more than {max_depth} levels deep") from exc
    except ValueError as exc:
        raise NotStorable(f"malformed JSON: {exc}") from exc
    check_storable(data, max_depth)
    return data


def check_storable(data: Any, max_depth: int, depth: int = 0) -> None:
    """Raise NotStorable for what load_json refuses, in an already parsed structure."""
    if depth > max_depth:
        raise NotStorable(f"JSON nested more than {max_depth} levels deep")
    if isinstance(data, dict):
        for key, value in data.items():
            _check_text(str(key))
            check_storable(value, max_depth, depth + 1)
    elif isinstance(data, list | tuple):
        for value in data:
            check_storable(value, max_depth, depth + 1)
    elif isinstance(data, str):
        _check_text(data)
    elif isinstance(data, float) and not math.isfinite(data):
        raise NotStorable(f"{data} is not a JSON number")


def _no_constant(name: str) -> float:
    raise NotStorable(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotStorable(f"{text} is too large a number")
    return value


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise NotStorable("text contains a NUL character (\\u0000)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotStorable("text contains an unpaired surrogate (\\ud800-\\udfff)") from exc
