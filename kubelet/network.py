"""Pod networking: one named network namespace per pod, wired by the CNI `bridge` plugin
with `host-local` IPAM from the node's pod CIDR (Debian's containernetworking-plugins).

Names carry a per-node prefix so parallel nodes and test runs never collide; the IPAM
state lives in the node's data dir, so it goes away with the node.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from kubelet.runtime.interface import DriverError

log = logging.getLogger(__name__)
CNI_PATH = os.environ.get("KUBE_PY_CNI_PATH", "/usr/lib/cni")


async def run(*argv: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env)
    out, err = await proc.communicate(stdin)
    return proc.returncode or 0, out, err


class PodNetwork:
    def __init__(self, node_name: str, pod_cidr: str, state_dir: str | Path, prefix: str = "kp") -> None:
        self.pod_cidr = pod_cidr
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tag = hashlib.sha1(f"{node_name}{self.state_dir}".encode()).hexdigest()[:6]
        self.prefix = f"{prefix}{tag}"
        self.bridge = f"{self.prefix}br"[:15]

    def netns_name(self, pod_uid: str) -> str:
        return f"{self.prefix}-{pod_uid[:8]}"

    def config(self) -> bytes:
        return json.dumps({
            "cniVersion": "1.0.0", "name": self.prefix, "type": "bridge", "bridge": self.bridge,
            "isGateway": True, "ipMasq": False, "hairpinMode": True,
            "ipam": {"type": "host-local", "ranges": [[{"subnet": self.pod_cidr}]],
                     "dataDir": str(self.state_dir / "ipam"), "routes": [{"dst": "0.0.0.0/0"}]},
        }).encode()

    def _env(self, command: str, pod_uid: str) -> dict[str, str]:
        return {"CNI_COMMAND": command, "CNI_CONTAINERID": pod_uid, "CNI_NETNS": f"/var/run/netns/{self.netns_name(pod_uid)}",
                "CNI_IFNAME": "eth0", "CNI_PATH": CNI_PATH, "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}

    async def setup(self, pod_uid: str) -> tuple[str, str]:
        """→ (netns path, pod IP). Idempotent: an existing namespace keeps its address."""
        name = self.netns_name(pod_uid)
        path = f"/var/run/netns/{name}"
        recorded = self.state_dir / f"{pod_uid}.ip"
        if Path(path).exists() and recorded.exists():
            return path, recorded.read_text().strip()
        code, _, err = await run("ip", "netns", "add", name)
        if code != 0 and b"File exists" not in err:
            raise DriverError(f"creating network namespace {name}: {err.decode().strip()}", "CreateContainerError")
        await run("ip", "-n", name, "link", "set", "lo", "up")
        code, out, err = await run(f"{CNI_PATH}/bridge", stdin=self.config(), env=self._env("ADD", pod_uid))
        if code != 0:
            await self.teardown(pod_uid)
            raise DriverError(f"CNI bridge ADD failed: {(out or err).decode().strip()}", "CreateContainerError")
        result: dict[str, Any] = json.loads(out)
        ip = result["ips"][0]["address"].split("/")[0]
        recorded.write_text(ip)
        return path, ip

    async def teardown(self, pod_uid: str) -> None:
        name = self.netns_name(pod_uid)
        if Path(f"/var/run/netns/{name}").exists():
            await run(f"{CNI_PATH}/bridge", stdin=self.config(), env=self._env("DEL", pod_uid))
            await run("ip", "netns", "del", name)
        (self.state_dir / f"{pod_uid}.ip").unlink(missing_ok=True)

    async def destroy(self) -> None:
        """Tear down every pod network this node made, then its bridge (node shutdown, tests)."""
        for recorded in sorted(self.state_dir.glob("*.ip")):
            await self.teardown(recorded.stem)
        netns_dir = Path("/var/run/netns")
        for name in sorted(os.listdir(netns_dir)) if netns_dir.is_dir() else []:
            if name.startswith(f"{self.prefix}-"):
                await run("ip", "netns", "del", name)
        await run("ip", "link", "del", self.bridge)
