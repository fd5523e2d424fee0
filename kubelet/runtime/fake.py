"""The `fake` driver: containers that start instantly and run until stopped.

No processes, no files: one kubelet process can host hundreds of hollow nodes for
scheduler and scale tests (kubemark's idea). A container whose command is exactly
`["false"]` or `["true"]` exits at once with 1 or 0, so restart and Job paths can be
exercised without a real runtime.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from kubelet.command import container_argv
from kubelet.runtime.interface import ContainerSpec, ContainerStatus, ExecResult, Runtime, SandboxInfo


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeRuntime(Runtime):
    name = "fake"

    def __init__(self, pod_cidr_prefix: str = "10.244.250") -> None:
        self._containers: dict[str, tuple[str, str, ContainerStatus]] = {}
        self._sandboxes: dict[str, SandboxInfo] = {}
        self._ids = itertools.count(1)
        self._prefix = pod_cidr_prefix

    async def pull_image(self, image: str) -> str:
        return "sha256:" + hashlib.sha256(image.encode()).hexdigest()

    async def create_sandbox(self, pod: dict[str, Any]) -> SandboxInfo:
        uid = pod["metadata"]["uid"]
        if uid not in self._sandboxes:
            n = len(self._sandboxes) % 250 + 2
            self._sandboxes[uid] = SandboxInfo(uid, ip=f"{self._prefix}.{n}")
        return self._sandboxes[uid]

    async def remove_sandbox(self, pod_uid: str) -> None:
        self._sandboxes.pop(pod_uid, None)

    async def start_container(self, sandbox: SandboxInfo, spec: ContainerSpec) -> ContainerStatus:
        cid = f"fake://{next(self._ids):012x}"
        command = container_argv(spec.command, spec.args, [], [])  # a fake image has no defaults
        status = ContainerStatus(cid, spec.name, "running", started_at=_now(), image=spec.image,
                                 image_id=await self.pull_image(spec.image))
        if command in (["true"], ["false"]):
            code = 0 if command == ["true"] else 1
            status.state, status.exit_code = "exited", code
            status.reason, status.finished_at = ("Completed" if code == 0 else "Error"), _now()
        self._containers[cid] = (spec.pod_uid, spec.name, status)
        return status

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        entry = self._containers.get(container_id)
        if entry and entry[2].state == "running":
            entry[2].state, entry[2].exit_code, entry[2].reason = "exited", 137 if grace_period <= 0 else 0, \
                "Error" if grace_period <= 0 else "Completed"
            entry[2].finished_at = _now()

    async def remove_container(self, container_id: str) -> None:
        self._containers.pop(container_id, None)

    async def container_status(self, container_id: str) -> ContainerStatus:
        entry = self._containers.get(container_id)
        return entry[2] if entry else ContainerStatus(container_id, "", "unknown")

    async def list_containers(self) -> list[tuple[str, str, ContainerStatus]]:
        return list(self._containers.values())

    async def logs(self, container_id: str, *, follow: bool = False, tail_lines: int | None = None,
                   timestamps: bool = False) -> AsyncIterator[bytes]:
        if False:  # pragma: no cover - an async generator with nothing to say
            yield b""
        await asyncio.sleep(0)

    async def exec(self, container_id: str, command: list[str], *, stdin: bytes | None = None,
                   timeout: float | None = None) -> ExecResult:
        return ExecResult(0)
