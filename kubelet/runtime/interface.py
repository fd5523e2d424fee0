"""The one small interface every container runtime driver implements.

The kubelet's pod workers speak only this: create a pod sandbox (its network namespace,
shared by the pod's containers), start and stop containers in it, ask for their state,
read their logs and run commands in them. `runc` runs real isolated containers from OCI
images; `process` runs the command as a plain process (no root needed); `fake` pretends,
so one process can host hundreds of hollow nodes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


class DriverError(Exception):
    """A runtime operation failed; `reason` is Kubernetes' waiting reason where one fits
    (ErrImagePull, CreateContainerError, RunContainerError, ...)."""

    def __init__(self, message: str, reason: str = "RunContainerError") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class SandboxInfo:
    pod_uid: str
    ip: str = ""  # the pod IP ("" when the driver has no pod network)
    netns_path: str = ""


@dataclass
class ContainerSpec:
    """What a driver needs to start one container of a pod."""

    pod_uid: str
    pod_name: str
    namespace: str
    name: str
    image: str
    command: list[str] = field(default_factory=list)  # entrypoint (image's if empty)
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    working_dir: str = ""
    mounts: list[dict[str, Any]] = field(default_factory=list)  # {"hostPath", "containerPath", "readOnly"}
    limits: dict[str, str] = field(default_factory=dict)  # resources.limits as quantities
    hostname: str = ""
    attempt: int = 0  # restart count: 0 for the first start


@dataclass
class ContainerStatus:
    id: str  # "<driver>://<id>"
    name: str
    state: str  # "created" | "running" | "exited" | "unknown"
    exit_code: int | None = None
    reason: str = ""  # "Completed" | "Error" | "OOMKilled" when exited
    started_at: str = ""  # RFC 3339
    finished_at: str = ""
    image: str = ""
    image_id: str = ""
    pid: int = 0


@dataclass
class ExecResult:
    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""


class Runtime(ABC):
    """One node's container runtime. Every method is async and never blocks the loop."""

    name: str = "runtime"
    isolated_rootfs: bool = False  # containers have their own /etc (the kubelet mounts resolv.conf, hosts)

    @abstractmethod
    async def pull_image(self, image: str) -> str:
        """Make the image available locally → image ID (`sha256:...`). DriverError with
        reason ErrImagePull when it cannot be had."""

    @abstractmethod
    async def create_sandbox(self, pod: dict[str, Any]) -> SandboxInfo:
        """Create (or find, after a kubelet restart) the pod's sandbox."""

    @abstractmethod
    async def remove_sandbox(self, pod_uid: str) -> None:
        """Remove the sandbox and its network; idempotent."""

    @abstractmethod
    async def start_container(self, sandbox: SandboxInfo, spec: ContainerSpec) -> ContainerStatus:
        """Create and start one container; returns its status (state running or exited)."""

    @abstractmethod
    async def stop_container(self, container_id: str, grace_period: float) -> None:
        """SIGTERM, then SIGKILL after `grace_period` seconds; idempotent."""

    @abstractmethod
    async def remove_container(self, container_id: str) -> None:
        """Forget a stopped container (its logs may go with it); idempotent."""

    @abstractmethod
    async def container_status(self, container_id: str) -> ContainerStatus:
        """Current state; exit code and reason once exited."""

    @abstractmethod
    async def list_containers(self) -> list[tuple[str, str, ContainerStatus]]:
        """Every container this node's runtime knows: (pod uid, container name, status).
        A restarted kubelet re-adopts these instead of starting duplicates."""

    @abstractmethod
    def logs(self, container_id: str, *, follow: bool = False, tail_lines: int | None = None,
             timestamps: bool = False) -> AsyncIterator[bytes]:
        """The container's output (stdout and stderr interleaved), chunk by chunk."""

    @abstractmethod
    async def exec(self, container_id: str, command: list[str], *, stdin: bytes | None = None,
                   timeout: float | None = None) -> ExecResult:
        """Run a command inside the running container (probes, kubectl exec without a TTY)."""

    async def close(self) -> None:
        """Release driver resources; containers keep running."""
        return None
