"""Processes of simulated hosts: started inside the host's network namespace with the
host's own hostname, detached so they outlive the `kube-py cluster` command, and found
again later by PID *and* by namespace, so that stopping a host also stops the containers
its kubelet started (a powered-off machine keeps nothing running).

`nsenter --net` rather than `ip netns exec`: the latter also makes a private mount
namespace, which would hide the kubelet's overlay mounts from cleanup (machine-notes §11).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from kubepy.cluster.hostnet import NETNS_DIR

HOSTNAME_THEN_EXEC = 'hostname "$0" && exec "$@"'


def spawn(argv: list[str], log_path: Path, *, netns: str = "", hostname: str = "",
          env: dict[str, str] | None = None) -> int:
    """Start `argv` detached (own session), in `netns` with `hostname` if given; → PID."""
    full = list(argv)
    if hostname:
        full = ["unshare", "--uts", "--", "sh", "-c", HOSTNAME_THEN_EXEC, hostname, *full]
    if netns:
        full = ["nsenter", f"--net={NETNS_DIR / netns}", *full]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(full, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, **(env or {})})
    return proc.pid


def alive(pid: int, argv: list[str] | None = None) -> bool:
    """True if `pid` runs and (when given) its command line is `argv`: a recorded PID that
    the kernel reused for something else is not ours."""
    if pid <= 0:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if status.split(") ", 1)[-1].startswith("Z"):
        return False
    return argv is None or cmdline.split(b"\0")[:-1] == [a.encode() for a in argv]


def netns_inode(name: str) -> int | None:
    try:
        return os.stat(NETNS_DIR / name).st_ino
    except OSError:
        return None


def pids_in_netns(inodes: set[int]) -> list[int]:
    """Every process whose network namespace is one of `inodes`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.stat(entry / "ns" / "net").st_ino in inodes:
                found.append(int(entry.name))
    return found


def kill_all(pids: list[int], timeout: float = 10.0) -> None:
    """SIGKILL (a host losing power) and wait until they are gone."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)


def terminate(pid: int, argv: list[str], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `timeout`: a clean stop."""
    if not alive(pid, argv):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    if alive(pid):
        kill_all([pid])
