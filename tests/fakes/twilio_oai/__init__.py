"""Twilio's OpenAPI definitions (twilio/twilio-oai) for the requests the portal makes.

``operations.json`` holds the operations the portal calls, cut from twilio-oai
by ``extract.py`` (its source commit is recorded in the file). ``violations``
checks what the local Twilio server recorded against them: every request must
be a defined operation, with its path parameters matching their patterns, only
defined query parameters and form fields, the required ones present, and each
value valid for its schema (enums included).
"""

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from tests.fakes.twilio_server import RecordedRequest

__all__ = ["OPERATIONS", "operation_for", "violations"]


@cache
def _operations() -> list[dict[str, Any]]:
    return json.loads(Path(__file__).with_name("operations.json").read_text())["operations"]


OPERATIONS = [(op["method"], op["path"]) for op in _operations()]


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)) + "$")


def operation_for(method: str, path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    for op in _operations():
        found = _pattern(op["path"]).match(path)
        if op["method"] == method and found:
            return op, found.groupdict()
    return None


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """Form and query values are text: read them as the schema's type says."""
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", value):
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if kind == "array":
        return [value]
    return value


def _invalid(name: str, value: str, schema: dict[str, Any]) -> list[str]:
    errors = Draft4Validator(schema).iter_errors(_coerce(value, schema))
    return [f"{name}={value!r}: {error.message}" for error in errors]


def violations(requests: list[RecordedRequest]) -> list[str]:
    """What in the recorded requests does not conform to Twilio's definitions."""
    found: list[str] = []
    for request in requests:
        where = f"{request.method} {request.path}"
        match = operation_for(request.method, request.path)
        if match is None:
            found.append(f"{where}: not an operation of Twilio's API")
            continue
        op, path_values = match
        params = {(p["in"], p["name"]): p for p in op["parameters"] if "name" in p}
        for name, value in path_values.items():
            found += [
                f"{where}: {e}" for e in _invalid(name, value, params[("path", name)]["schema"])
            ]
        for name, value in request.query.items():
            param = params.get(("query", name))
            if param is None:
                found.append(f"{where}: query parameter {name} is not defined")
            else:
                found += [f"{where}: {e}" for e in _invalid(name, value, param["schema"])]
        form = op["form"]
        for name in form["required"]:
            if name not in request.form:
                found.append(f"{where}: required field {name} is missing")
        for name, value in request.form.items():
            schema = form["properties"].get(name)
            if schema is None:
                found.append(f"{where}: form field {name} is not defined")
            else:
                found += [f"{where}: {e}" for e in _invalid(name, value, schema)]
    return found
