"""The `process` driver: a container is its command run as a plain child process.

No isolation and no images (the image name is only recorded), so it works without root;
the pod IP is the node's. What an image would supply is a small table of its ENTRYPOINT and
CMD (busybox's is CMD `sh`, no ENTRYPOINT), so `command`/`args` follow Kubernetes' rules
(kubelet/command.py): `args` alone replace that CMD rather than being appended to it. Output goes to a log file per container, which is what `logs`
reads. State lives in a directory (one JSON file per container with its pid), so a
restarted kubelet finds its still-running processes instead of starting duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import shutil
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubelet.command import container_argv
from kubelet.runtime.interface import (
    ContainerSpec,
    ContainerStatus,
    DriverError,
    ExecResult,
    Runtime,
    SandboxInfo,
)

# The images' defaults, as (ENTRYPOINT, CMD) of their configs.
IMAGE_DEFAULTS: dict[str, tuple[list[str], list[str]]] = {"busybox": ([], ["sh"]), "alpine": ([], ["/bin/sh"])}


def image_name(reference: str) -> str:
    """`registry:5000/library/busybox:1.36@sha256:...` → `busybox`."""
    last = reference.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().split(") ", 1)[1][0] != "Z"
    return True


class ProcessRuntime(Runtime):
    name = "process"

    def __init__(self, state_dir: str | Path, node_ip: str = "127.0.0.1") -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.node_ip = node_ip
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._waiters: dict[str, asyncio.Task[None]] = {}
        self._ids = itertools.count(int(time.time() * 1000) % 10**9)

    # ---- bookkeeping ---------------------------------------------------------------

    def _record_path(self, cid: str) -> Path:
        return self.state_dir / f"{cid}.json"

    def _log_path(self, cid: str) -> Path:
        return self.state_dir / f"{cid}.log"

    def _load(self, cid: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._record_path(cid).read_text())
        except (OSError, ValueError):
            return None

    def _save(self, cid: str, record: dict[str, Any]) -> None:
        tmp = self._record_path(cid).with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(self._record_path(cid))

    @staticmethod
    def _short(container_id: str) -> str:
        return container_id.removeprefix("process://")

    # ---- interface -----------------------------------------------------------------

    async def pull_image(self, image: str) -> str:
        return "sha256:" + hashlib.sha256(image.encode()).hexdigest()

    async def create_sandbox(self, pod: dict[str, Any]) -> SandboxInfo:
        return SandboxInfo(pod["metadata"]["uid"], ip=self.node_ip)

    async def remove_sandbox(self, pod_uid: str) -> None:
        return None

    async def start_container(self, sandbox: SandboxInfo, spec: ContainerSpec) -> ContainerStatus:
        entrypoint, cmd = IMAGE_DEFAULTS.get(image_name(spec.image), ([], []))
        argv = container_argv(spec.command, spec.args, entrypoint, cmd)
        if not argv:
            raise DriverError(f"the process driver needs a command for image {spec.image}", "CreateContainerError")
        if shutil.which(argv[0]) is None and shutil.which("busybox") is not None:
            argv = ["busybox", *argv]  # busybox images' applets (httpd, wget, ...) without the image
        cid = f"{next(self._ids):012x}"
        log = self._log_path(cid).open("ab")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOSTNAME": spec.hostname or spec.pod_name,
               **spec.env}
        try:
            proc = await asyncio.create_subprocess_exec(*argv, stdout=log, stderr=asyncio.subprocess.STDOUT,
                                                        stdin=asyncio.subprocess.DEVNULL, env=env,
                                                        cwd=spec.working_dir or None, start_new_session=True)
        except OSError as exc:
            raise DriverError(f'failed to start container "{spec.name}": {exc}', "RunContainerError") from exc
        finally:
            log.close()
        record = {"pod_uid": spec.pod_uid, "name": spec.name, "pid": proc.pid, "image": spec.image,
                  "image_id": await self.pull_image(spec.image), "started_at": _now(), "state": "running"}
        self._save(cid, record)
        self._procs[cid] = proc
        self._waiters[cid] = asyncio.create_task(self._wait(cid, proc))
        return self._status(cid, record)

    async def _wait(self, cid: str, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        record = self._load(cid) or {}
        if code < 0:
            record["exit_code"] = 128 - code
        else:
            record["exit_code"] = code
        record["state"] = "exited"
        record["finished_at"] = _now()
        self._save(cid, record)

    def _status(self, cid: str, record: dict[str, Any]) -> ContainerStatus:
        state = record.get("state", "unknown")
        if state == "running" and cid not in self._procs and not _alive(int(record.get("pid", 0))):
            state = "exited"
            record.setdefault("exit_code", 0)
            record.setdefault("finished_at", _now())
        code = record.get("exit_code")
        reason = ""
        if state == "exited":
            reason = "Completed" if code == 0 else "Error"
        return ContainerStatus(f"process://{cid}", record.get("name", ""), state, code, reason,
                               record.get("started_at", ""), record.get("finished_at", ""), record.get("image", ""),
                               record.get("image_id", ""), int(record.get("pid", 0)))

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        cid = self._short(container_id)
        record = self._load(cid)
        if record is None or record.get("state") != "running":
            return
        pid = int(record["pid"])
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + max(grace_period, 0)
        while time.monotonic() < deadline and _alive(pid):
            await asyncio.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        waiter = self._waiters.get(cid)
        if waiter is not None:
            await asyncio.wait({waiter}, timeout=5)

    async def remove_container(self, container_id: str) -> None:
        cid = self._short(container_id)
        await self.stop_container(container_id, 0)
        self._procs.pop(cid, None)
        task = self._waiters.pop(cid, None)
        if task is not None:
            task.cancel()
        for path in (self._record_path(cid), self._log_path(cid)):
            path.unlink(missing_ok=True)

    async def container_status(self, container_id: str) -> ContainerStatus:
        cid = self._short(container_id)
        record = self._load(cid)
        if record is None:
            return ContainerStatus(container_id, "", "unknown")
        return self._status(cid, record)

    async def list_containers(self) -> list[tuple[str, str, ContainerStatus]]:
        found = []
        for path in sorted(self.state_dir.glob("*.json")):
            record = self._load(path.stem)
            if record is not None:
                found.append((record["pod_uid"], record["name"], self._status(path.stem, record)))
        return found

    async def logs(self, container_id: str, *, follow: bool = False, tail_lines: int | None = None,
                   timestamps: bool = False) -> AsyncIterator[bytes]:
        cid = self._short(container_id)
        path = self._log_path(cid)
        if not path.exists():
            return
        data = await asyncio.to_thread(path.read_bytes)
        if tail_lines is not None:
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[-tail_lines:]) if tail_lines > 0 else b""
        if data:
            yield data
        offset = path.stat().st_size
        while follow:
            status = await self.container_status(container_id)
            size = path.stat().st_size if path.exists() else offset
            if size > offset:
                with path.open("rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read(size - offset)
                offset = size
                yield chunk
            elif status.state != "running":
                return
            else:
                await asyncio.sleep(0.2)

    async def exec(self, container_id: str, command: list[str], *, stdin: bytes | None = None,
                   timeout: float | None = None) -> ExecResult:
        try:
            proc = await asyncio.create_subprocess_exec(*command, stdin=asyncio.subprocess.PIPE,
                                                        stdout=asyncio.subprocess.PIPE,
                                                        stderr=asyncio.subprocess.PIPE)
        except OSError as exc:
            return ExecResult(126, b"", str(exc).encode())
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return ExecResult(137, b"", b"command timed out")
        return ExecResult(proc.returncode or 0, out, err)
