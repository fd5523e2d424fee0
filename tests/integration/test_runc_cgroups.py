"""The runc driver leaves no cgroups behind, in any hierarchy the host mounts (v1 controllers,
the named systemd one, the hybrid unified cgroup2): a removed container's cgroups go, the
driver's start removes stale ones of its own prefix (and only those), its stop those of
exited containers, and `cleanup_node` (what `kube-py up` runs on Ctrl-C) the node's prefix.
Also the command/args table with a real image: busybox has CMD `sh` and no ENTRYPOINT."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from kubelet.runtime import cgroups
from kubelet.runtime.interface import ContainerSpec
from kubelet.runtime.runc import RuncRuntime
from tests.fixtures.images import RegistryServer
from tests.integration.test_runc_runtime import exited, registry, runtime, spec

__all__ = ["registry", "runtime"]  # the fixtures, shared with test_runc_runtime

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None,
    reason="runc containers need root and runc (hack/install-system-packages.sh installs runc when root)")


def left(relative: str) -> list[Path]:
    return cgroups.cgroup_dirs(relative)


async def test_removing_a_container_removes_its_cgroups_everywhere(runtime: RuncRuntime,
                                                                   registry: tuple[RegistryServer, str]) -> None:
    _, image = registry
    sandbox = await runtime.create_sandbox({"metadata": {"uid": "pod-cg"}})
    status = await runtime.start_container(sandbox, spec(image, "sleeper", "sleep", "3600", pod="pod-cg",
                                                         limits={"memory": "64Mi"}))
    cid = status.id.removeprefix("runc://")
    relative = f"{runtime.cgroup_prefix}/{cid}"
    where = {p.parent.parent.parent.name for p in left(relative)}
    assert where == {m.name for m in cgroups.cgroup_mounts()}, where  # every hierarchy, systemd and unified too
    await runtime.remove_container(status.id)
    assert left(relative) == []
    await runtime.cleanup_node()
    assert left(runtime.cgroup_prefix) == []


async def test_start_removes_stale_cgroups_of_its_prefix_only(runtime: RuncRuntime,
                                                              registry: tuple[RegistryServer, str]) -> None:
    _, image = registry
    sandbox = await runtime.create_sandbox({"metadata": {"uid": "pod-st"}})
    alive = await runtime.start_container(sandbox, spec(image, "alive", "sleep", "3600", pod="pod-st"))
    done = await runtime.start_container(sandbox, spec(image, "done", "true", pod="pod-st"))
    await exited(runtime, done.id)
    mounts = cgroups.cgroup_mounts()
    stale = f"{runtime.cgroup_prefix}/{runtime.network.prefix}-deadbeef0000"  # a container a killed run lost
    other = f"/kube-py/kpzz{uuid.uuid4().hex[:4]}/someone-elses"  # another data dir's node
    for relative in (stale, other):
        for mount in mounts:
            (mount / relative.strip("/")).mkdir(parents=True)
    try:
        restarted = RuncRuntime(runtime.data_dir, node_name=runtime.node_name, pod_cidr=runtime.network.pod_cidr)
        assert left(stale) == []
        assert left(other) != []
        alive_cgroup = f"{runtime.cgroup_prefix}/{alive.id.removeprefix('runc://')}"
        done_cgroup = f"{runtime.cgroup_prefix}/{done.id.removeprefix('runc://')}"
        assert left(alive_cgroup) != []  # still running: adopted, not touched
        await restarted.close()  # the driver's stop: containers keep running, exited ones' cgroups go
        assert left(alive_cgroup) != []
        assert left(done_cgroup) == []
        assert (await restarted.container_status(alive.id)).state == "running"
        await restarted.cleanup_node()
        assert left(runtime.cgroup_prefix) == []
    finally:
        cgroups.remove_cgroup(other.rsplit("/", 1)[0])


async def test_command_and_args_follow_kubernetes_table(runtime: RuncRuntime,
                                                        registry: tuple[RegistryServer, str]) -> None:
    _, image = registry
    sandbox = await runtime.create_sandbox({"metadata": {"uid": "pod-cmd"}})

    async def run(name: str, command: list[str], args: list[str]) -> tuple[int | None, bytes]:
        status = await runtime.start_container(sandbox, ContainerSpec(
            pod_uid="pod-cmd", pod_name="p", namespace="default", name=name, image=image, command=command,
            args=args))
        code, _ = await exited(runtime, status.id)
        return code, b"".join([c async for c in runtime.logs(status.id)])

    assert await run("args", [], ["/bin/sh", "-c", "echo args-only"]) == (0, b"args-only\n")
    assert await run("both", ["/bin/sh", "-c"], ["echo both"]) == (0, b"both\n")
    assert await run("command", ["echo", "command-only"], []) == (0, b"command-only\n")
    assert await run("neither", [], []) == (0, b"")  # CMD sh, stdin at EOF
