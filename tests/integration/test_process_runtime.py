"""The `process` driver with real child processes: start, exit codes, logs, exec, graceful
stop with escalation, and re-adoption by a fresh driver instance (a kubelet restart)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kubelet.runtime.interface import ContainerSpec, SandboxInfo
from kubelet.runtime.process import ProcessRuntime


def spec(name: str, *command: str) -> ContainerSpec:
    return ContainerSpec(pod_uid="pod-1", pod_name="p", namespace="default", name=name, image="busybox:1.36",
                         command=list(command))


async def wait_exited(runtime: ProcessRuntime, cid: str) -> int | None:
    for _ in range(200):
        status = await runtime.container_status(cid)
        if status.state == "exited":
            return status.exit_code
        await asyncio.sleep(0.05)
    raise AssertionError("container did not exit")


async def test_exit_codes_and_logs(tmp_path: Path) -> None:
    runtime = ProcessRuntime(tmp_path)
    sandbox = SandboxInfo("pod-1", ip="127.0.0.1")
    ok = await runtime.start_container(sandbox, spec("ok", "sh", "-c", "echo hello; echo world"))
    bad = await runtime.start_container(sandbox, spec("bad", "sh", "-c", "exit 7"))
    assert await wait_exited(runtime, ok.id) == 0
    assert await wait_exited(runtime, bad.id) == 7
    assert (await runtime.container_status(bad.id)).reason == "Error"
    chunks = [c async for c in runtime.logs(ok.id)]
    assert b"".join(chunks) == b"hello\nworld\n"
    tail = [c async for c in runtime.logs(ok.id, tail_lines=1)]
    assert b"".join(tail) == b"world\n"


async def test_stop_escalates_to_sigkill_and_exec_works(tmp_path: Path) -> None:
    runtime = ProcessRuntime(tmp_path)
    stubborn = await runtime.start_container(SandboxInfo("pod-1"), spec("s", "sh", "-c",
                                                                        "trap '' TERM; while true; do sleep 0.1; done"))
    result = await runtime.exec(stubborn.id, ["sh", "-c", "echo out; exit 4"])
    assert (result.exit_code, result.stdout) == (4, b"out\n")
    await runtime.stop_container(stubborn.id, grace_period=0.5)
    status = await runtime.container_status(stubborn.id)
    assert status.state == "exited" and status.exit_code == 137


async def test_a_new_driver_instance_adopts_running_containers(tmp_path: Path) -> None:
    first = ProcessRuntime(tmp_path)
    started = await first.start_container(SandboxInfo("pod-1"), spec("long", "sleep", "30"))
    second = ProcessRuntime(tmp_path)
    found = await second.list_containers()
    assert [(uid, name, s.state) for uid, name, s in found] == [("pod-1", "long", "running")]
    await second.stop_container(started.id, grace_period=1)
    assert (await second.container_status(started.id)).state == "exited"
    await second.remove_container(started.id)
    assert await second.list_containers() == []
