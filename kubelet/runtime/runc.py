"""The `runc` driver: real OCI containers (machine-notes §6, §11).

Per container: an overlayfs writable root over the image's unpacked rootfs, an OCI
`config.json` built from the container spec (command/args/env/workingDir, volume mounts,
cgroup memory and CPU limits from `resources.limits`, hostname, the pod's network
namespace by path), and a detached shim (runc_shim.py) that starts it and records its
exit code and OOM kill. Every node has a private `runc --root` and cgroup prefix
(`/kube-py/kp<hash of node name and data dir>`), so several nodes (and test runs) share a
machine without seeing each other's containers. A container's cgroups go when it is removed;
the driver's start removes stale ones of its prefix, and its stop (and `cleanup_node`)
those no container uses any more — in every hierarchy the host mounts (cgroups.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from apimachinery.quantity import QuantityError, parse_quantity
from kubelet.command import container_argv
from kubelet.images import ImageStore
from kubelet.network import PodNetwork, run
from kubelet.runtime import cgroups
from kubelet.runtime.interface import (
    ContainerSpec,
    ContainerStatus,
    DriverError,
    ExecResult,
    Runtime,
    SandboxInfo,
)

CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
                "CAP_FOWNER", "CAP_FSETID", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_RAW",
                "CAP_SYS_CHROOT", "CAP_MKNOD"]


def resources_from_limits(limits: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        if "memory" in limits:
            memory = parse_quantity(limits["memory"]).value_int()
            out["memory"] = {"limit": memory, "swap": memory}
        if "cpu" in limits:
            millis = parse_quantity(limits["cpu"]).milli_value()
            out["cpu"] = {"shares": max(2, millis * 1024 // 1000), "quota": max(1000, millis * 100), "period": 100000}
    except QuantityError as exc:
        raise DriverError(f"invalid resource limit: {exc}", "CreateContainerConfigError") from exc
    return out


def oci_config(spec: ContainerSpec, image_env: list[str], argv: list[str], cwd: str, rootfs: str,
               netns_path: str, cgroups_path: str) -> dict[str, Any]:
    env = {e.split("=", 1)[0]: e.split("=", 1)[1] for e in image_env if "=" in e}
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env["HOSTNAME"] = spec.hostname or spec.pod_name
    env.update(spec.env)
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755",
                                                                                 "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]
    for mount in spec.mounts:
        options = ["rbind", "ro" if mount.get("readOnly") else "rw"]
        mounts.append({"destination": mount["containerPath"], "type": "bind", "source": mount["hostPath"],
                       "options": options})
    namespaces: list[dict[str, str]] = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    namespaces.append({"type": "network", "path": netns_path} if netns_path else {"type": "network"})
    return {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": argv,
                    "env": [f"{k}={v}" for k, v in env.items()], "cwd": cwd or "/",
                    "capabilities": {k: CAPABILITIES for k in ("bounding", "effective", "permitted")},
                    "noNewPrivileges": True},
        "root": {"path": rootfs, "readonly": False},
        "hostname": (spec.hostname or spec.pod_name)[:63],
        "mounts": mounts,
        "linux": {"namespaces": namespaces, "cgroupsPath": cgroups_path,
                  "resources": {"devices": [{"allow": False, "access": "rwm"}], **resources_from_limits(spec.limits)},
                  "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
                  "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]},
    }


class RuncRuntime(Runtime):
    name = "runc"
    isolated_rootfs = True

    def __init__(self, data_dir: str | Path, *, node_name: str, node_ip: str = "127.0.0.1",
                 pod_cidr: str = "", default_registry: str = "", images: ImageStore | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.node_name = node_name
        self.node_ip = node_ip
        self.runc_root = self.data_dir / "runc"
        self.bundles = self.data_dir / "containers"
        for folder in (self.runc_root, self.bundles):
            folder.mkdir(parents=True, exist_ok=True)
        self.images = images or ImageStore(self.data_dir / "images", default_registry)
        self.network = PodNetwork(node_name, pod_cidr, self.data_dir / "network")
        self.cgroup_prefix = f"/kube-py/{self.network.prefix}"
        self._sandboxes: dict[str, SandboxInfo] = {}
        # Stale cgroups of this node's earlier runs (a killed kubelet, a lost container):
        # those of containers it still has bundles for stay, to be adopted.
        cgroups.remove_children(self.cgroup_prefix, keep={b.name for b in self.bundles.iterdir()})

    # ---- images and sandboxes ------------------------------------------------------

    async def pull_image(self, image: str) -> str:
        return (await self.images.ensure(image)).digest

    @property
    def pod_cidr(self) -> str:
        return self.network.pod_cidr

    def set_pod_cidr(self, cidr: str) -> None:
        """The node's range, once the node IPAM controller gave it one (no `--pod-cidr`)."""
        self.network.pod_cidr = cidr

    async def create_sandbox(self, pod: dict[str, Any]) -> SandboxInfo:
        uid = pod["metadata"]["uid"]
        if not self.network.pod_cidr:
            raise DriverError("network is not ready: this node has no pod CIDR yet", "CreateContainerError")
        if uid not in self._sandboxes:
            path, ip = await self.network.setup(uid)
            self._sandboxes[uid] = SandboxInfo(uid, ip=ip, netns_path=path)
        return self._sandboxes[uid]

    async def remove_sandbox(self, pod_uid: str) -> None:
        self._sandboxes.pop(pod_uid, None)
        await self.network.teardown(pod_uid)

    # ---- containers ----------------------------------------------------------------

    def _bundle(self, cid: str) -> Path:
        return self.bundles / cid

    async def start_container(self, sandbox: SandboxInfo, spec: ContainerSpec) -> ContainerStatus:
        image = await self.images.ensure(spec.image)
        argv = container_argv(spec.command, spec.args, image.entrypoint, image.cmd)
        if not argv:
            raise DriverError(f"no command specified for container {spec.name}", "CreateContainerError")
        cid = f"{self.network.prefix}-{uuid.uuid4().hex[:12]}"
        bundle = self._bundle(cid)
        rootfs = bundle / "rootfs"
        for folder in ("upper", "work", "rootfs"):
            (bundle / folder).mkdir(parents=True)
        code, _, err = await run("mount", "-t", "overlay", "overlay", "-o",
                                 f"lowerdir={image.rootfs},upperdir={bundle / 'upper'},workdir={bundle / 'work'}",
                                 str(rootfs))
        if code != 0:
            shutil.rmtree(bundle, ignore_errors=True)
            raise DriverError(f"overlay mount failed: {err.decode().strip()}", "CreateContainerError")
        cgroups_path = f"{self.cgroup_prefix}/{cid}"
        config = oci_config(spec, image.env, argv, spec.working_dir or image.working_dir, str(rootfs),
                            sandbox.netns_path, cgroups_path)
        (bundle / "config.json").write_text(json.dumps(config))
        meta = {"pod_uid": spec.pod_uid, "name": spec.name, "image": spec.image, "image_id": image.digest,
                "cgroup": cgroups_path}
        (bundle / "meta.json").write_text(json.dumps(meta))
        shim = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kubelet.runtime.runc_shim", str(self.runc_root), str(bundle), cid, cgroups_path,
            stdout=asyncio.subprocess.PIPE, stderr=(bundle / "shim.log").open("ab"), stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True, cwd=str(Path(__file__).resolve().parents[2]))
        (bundle / "shim.pid").write_text(str(shim.pid))
        assert shim.stdout is not None
        line = (await asyncio.wait_for(shim.stdout.readline(), 30)).decode().strip()
        asyncio.get_running_loop().create_task(shim.wait())
        if not line.startswith("started"):
            logs = [bundle / "container.log", bundle / "shim.log"]
            log_text = " ".join(p.read_text(errors="replace")[-500:] for p in logs if p.exists())
            await self.remove_container(f"runc://{cid}")  # its overlay, runc state and cgroups
            raise DriverError(f"runc could not start container {spec.name}: {log_text.strip()}", "RunContainerError")
        return await self.container_status(f"runc://{cid}")

    async def container_status(self, container_id: str) -> ContainerStatus:
        cid = container_id.removeprefix("runc://")
        bundle = self._bundle(cid)
        try:
            meta = json.loads((bundle / "meta.json").read_text())
        except (OSError, ValueError):
            return ContainerStatus(container_id, "", "unknown")
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((bundle / "config.json").stat().st_mtime))
        status = ContainerStatus(container_id, meta["name"], "running", started_at=started, image=meta["image"],
                                 image_id=meta["image_id"])
        exit_file = bundle / "exit.json"
        if not exit_file.exists() and not self._shim_alive(bundle) and not exit_file.exists():
            # The shim died without recording an exit (the host lost power, or someone
            # killed it): Kubernetes reports such a container as terminated, reason Unknown.
            exit_file.write_text(json.dumps({"exitCode": 255, "reason": "Unknown", "startedAt": started,
                                             "finishedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
        if exit_file.exists():
            result = json.loads(exit_file.read_text())
            status.state, status.exit_code, status.reason = "exited", result["exitCode"], result["reason"]
            status.started_at, status.finished_at = result.get("startedAt", started), result.get("finishedAt", "")
        with contextlib.suppress(OSError, ValueError):
            status.pid = int((bundle / "pid").read_text())
        return status

    @staticmethod
    def _shim_alive(bundle: Path) -> bool:
        """Is someone still watching this container? The shim if we recorded it, else the
        container's own init process; with neither recorded, assume yes."""
        for record, marker in (("shim.pid", "runc_shim"), ("pid", "")):
            if not (bundle / record).exists():
                continue
            try:
                pid = int((bundle / record).read_text())
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                stat = Path(f"/proc/{pid}/stat").read_text()
            except (OSError, ValueError):
                return False
            return marker.encode() in cmdline and not stat.split(") ", 1)[-1].startswith("Z")
        return True

    async def stop_container(self, container_id: str, grace_period: float) -> None:
        cid = container_id.removeprefix("runc://")
        status = await self.container_status(container_id)
        if status.state != "running":
            return
        await run("runc", "--root", str(self.runc_root), "kill", cid, "TERM")
        deadline = time.monotonic() + max(grace_period, 0)
        while time.monotonic() < deadline:
            if (self._bundle(cid) / "exit.json").exists():
                return
            await asyncio.sleep(0.05)
        await run("runc", "--root", str(self.runc_root), "kill", cid, "KILL")
        for _ in range(100):
            if (self._bundle(cid) / "exit.json").exists():
                return
            await asyncio.sleep(0.05)

    async def remove_container(self, container_id: str) -> None:
        cid = container_id.removeprefix("runc://")
        await self.stop_container(container_id, 0)
        await run("runc", "--root", str(self.runc_root), "delete", "--force", cid)
        cgroups.remove_cgroup(f"{self.cgroup_prefix}/{cid}")  # runc leaves them when its state is gone
        bundle = self._bundle(cid)
        await run("umount", str(bundle / "rootfs"))
        shutil.rmtree(bundle, ignore_errors=True)

    async def list_containers(self) -> list[tuple[str, str, ContainerStatus]]:
        found = []
        for bundle in sorted(self.bundles.iterdir()) if self.bundles.exists() else []:
            meta_file = bundle / "meta.json"
            if meta_file.exists():
                meta = json.loads(meta_file.read_text())
                found.append((meta["pod_uid"], meta["name"], await self.container_status(f"runc://{bundle.name}")))
        return found

    async def logs(self, container_id: str, *, follow: bool = False, tail_lines: int | None = None,
                   timestamps: bool = False) -> AsyncIterator[bytes]:
        path = self._bundle(container_id.removeprefix("runc://")) / "container.log"
        if not path.exists():
            return
        data = await asyncio.to_thread(path.read_bytes)
        if tail_lines is not None:
            data = b"".join(data.splitlines(keepends=True)[-tail_lines:]) if tail_lines > 0 else b""
        if data:
            yield data
        offset = path.stat().st_size
        while follow:
            size = path.stat().st_size if path.exists() else offset
            if size > offset:
                with path.open("rb") as handle:
                    handle.seek(offset)
                    chunk = handle.read(size - offset)
                offset = size
                yield chunk
            elif (await self.container_status(container_id)).state != "running":
                return
            else:
                await asyncio.sleep(0.2)

    async def exec(self, container_id: str, command: list[str], *, stdin: bytes | None = None,
                   timeout: float | None = None) -> ExecResult:
        cid = container_id.removeprefix("runc://")
        proc = await asyncio.create_subprocess_exec(
            "runc", "--root", str(self.runc_root), "exec", cid, *command, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin or b""), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return ExecResult(137, b"", b"command timed out")
        return ExecResult(proc.returncode or 0, out, err)

    async def close(self) -> None:
        """Containers keep running (a restarted kubelet adopts them); the cgroups of those
        that have exited go, and the node's prefix once nothing is left in it."""
        running = {b.name for b in self.bundles.iterdir() if not (b / "exit.json").exists()}
        cgroups.remove_children(self.cgroup_prefix, keep=running)
        self._remove_prefix_if_empty()

    def _remove_prefix_if_empty(self) -> None:
        cgroups.remove_if_empty(self.cgroup_prefix)
        cgroups.remove_if_empty("/kube-py")  # the parent shared with other nodes goes only once empty

    async def cleanup_node(self) -> None:
        """Stop and remove every container and sandbox of this node (tests, `up`'s Ctrl-C,
        `cluster down`), and the node's cgroups in every hierarchy."""
        for pod_uid, _name, status in await self.list_containers():
            await self.remove_container(status.id)
            await self.remove_sandbox(pod_uid)
        await self.network.destroy()
        cgroups.remove_cgroup(self.cgroup_prefix)
        self._remove_prefix_if_empty()
