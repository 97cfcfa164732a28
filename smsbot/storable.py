"""Data from the outside made storable: PostgreSQL rejects NUL, lone surrogates and NaN."""

import math
from typing import Any


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
