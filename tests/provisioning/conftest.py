"""Fixtures for the provisioning commands: run them, read moto's state."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@dataclass
class Run:
    out: str
    error: str | None

    def lines(self, action: str) -> list[str]:
        return [line for line in self.out.splitlines() if line.startswith(f"{action} ")]


def run(command: str, *args: str) -> Run:
    out = io.StringIO()
    try:
        call_command(command, *args, stdout=out)
    except CommandError as exc:
        return Run(out.getvalue(), str(exc))
    return Run(out.getvalue(), None)


@pytest.fixture
def provisioned(aws: str, settings: object) -> str:
    result = run("provision_aws")
    assert result.error is None, result.out + str(result.error)
    return aws
