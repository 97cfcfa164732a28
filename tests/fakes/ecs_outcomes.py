"""A pass-through in front of moto that says how ECS tasks and deployments end.

moto runs no container: a task it starts stops with exit code 0, and a service's
deployment never moves. In front of it, a test decides instead:

    with EcsOutcomes(moto_url) as ecs:        # point AWS_ENDPOINT_URL at ecs.url
        ecs.exit_code = 3                     # one-off tasks (a command override) exit 3
        ecs.rollout["smsbot-web"] = ("FAILED", "circuit breaker: tasks failed to start")
        ecs.calls                             # the ECS operations asked, in order

It also completes moto 5.2.5's CreateService, which drops deploymentConfiguration
(UpdateService keeps it): the proxy sends the same configuration as an
UpdateService, so DescribeServices answers what AWS would.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import requests

from tests.fakes.local_server import LocalServer, QuietHandler

__all__ = ["EcsOutcomes"]

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        proxy: EcsOutcomes = self.server.owner  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        target = self.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        upstream = requests.request(
            self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=30
        )
        payload = upstream.content
        if operation and upstream.ok:
            request = json.loads(body or b"{}")
            proxy.record(operation, request)
            answer = json.loads(payload)
            if operation == "CreateService" and "deploymentConfiguration" in request:
                proxy.complete_create(request, headers, target)
            elif operation == "DescribeTasks":
                proxy.end_tasks(answer)
                payload = json.dumps(answer).encode()
            elif operation == "DescribeServices":
                proxy.set_rollouts(answer)
                payload = json.dumps(answer).encode()
        content_type = upstream.headers.get("Content-Type", "application/x-amz-json-1.1")
        self.answer(upstream.status_code, content_type, payload)


class EcsOutcomes(LocalServer):
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.lock = threading.Lock()
        self.exit_code: int | None = 0
        self.stopped_reason = "Essential container in task exited"
        self.rollout: dict[str, tuple[str, str]] = {}
        self._calls: list[tuple[str, dict[str, Any]]] = []
        self._one_off: set[str] = set()
        super().__init__(_Handler)

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return list(self._calls)

    def record(self, operation: str, request: dict[str, Any]) -> None:
        with self.lock:
            self._calls.append((operation, request))

    def complete_create(
        self, request: dict[str, Any], headers: dict[str, str], target: str
    ) -> None:
        update = {
            "cluster": request.get("cluster", "default"),
            "service": request["serviceName"],
            "deploymentConfiguration": request["deploymentConfiguration"],
        }
        headers = {**headers, "X-Amz-Target": target.replace("CreateService", "UpdateService")}
        requests.post(self.upstream + "/", data=json.dumps(update), headers=headers, timeout=30)

    def end_tasks(self, answer: dict[str, Any]) -> None:
        """A stopped one-off task (one with a command override) exits with exit_code."""
        for task in answer.get("tasks", []):
            overridden = any(
                o.get("command") for o in task.get("overrides", {}).get("containerOverrides", [])
            )
            if not overridden or task.get("lastStatus") != "STOPPED":
                continue
            task["stoppedReason"] = self.stopped_reason
            for container in task.get("containers", []):
                container["lastStatus"] = "STOPPED"
                if self.exit_code is None:
                    container.pop("exitCode", None)
                else:
                    container["exitCode"] = self.exit_code

    def set_rollouts(self, answer: dict[str, Any]) -> None:
        for service in answer.get("services", []):
            state = self.rollout.get(service["serviceName"])
            if state is None:
                continue
            for deployment in service.get("deployments", []):
                if deployment["status"] == "PRIMARY":
                    deployment["rolloutState"], deployment["rolloutStateReason"] = state
