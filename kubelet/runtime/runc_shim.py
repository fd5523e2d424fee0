"""Per-container shim for the runc driver (machine-notes §6.7).

Started by the kubelet and then forgotten: it detaches (setsid), becomes a child
subreaper, creates and starts the container with runc (stdio to the bundle's log file),
reports the container's pid on stdout and closes it, then reaps the container's init
process and writes `exit.json` (exit code, signal, OOM kill read from the memory cgroup
before anyone deletes it). It survives kubelet restarts, which is what lets a restarted
kubelet re-adopt running containers.

    python -m kubelet.runtime.runc_shim RUNC_ROOT BUNDLE ID CGROUP_PATH
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def oom_killed(cgroup_path: str) -> bool:
    control = Path("/sys/fs/cgroup/memory") / cgroup_path.lstrip("/") / "memory.oom_control"
    try:
        return any(line.split() == ["oom_kill", "1"] or (line.startswith("oom_kill ") and line.split()[1] != "0")
                   for line in control.read_text().splitlines())
    except OSError:
        return False


def main(runc_root: str, bundle: str, container_id: str, cgroup_path: str) -> int:
    if os.getsid(0) != os.getpid():
        os.setsid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    bundle_dir = Path(bundle)
    log = (bundle_dir / "container.log").open("ab")
    create = subprocess.run(["runc", "--root", runc_root, "create", "--bundle", bundle, "--pid-file",
                             str(bundle_dir / "pid"), container_id],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    if create.returncode != 0:
        (bundle_dir / "exit.json").write_text(json.dumps({"exitCode": 128, "reason": "StartError",
                                                          "startedAt": now(), "finishedAt": now()}))
        print("failed", flush=True)
        return 1
    pid = int((bundle_dir / "pid").read_text().strip())
    started = now()
    subprocess.run(["runc", "--root", runc_root, "start", container_id], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=log)
    print(f"started {pid}", flush=True)
    sys.stdout.close()
    os.close(1)
    status = 0
    while True:
        try:
            reaped, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if reaped == pid:
            break
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        code, reason = 128 + sig, "Error"
    else:
        sig, code = 0, os.WEXITSTATUS(status)
        reason = "Completed" if code == 0 else "Error"
    if oom_killed(cgroup_path):
        reason = "OOMKilled"
    result = {"exitCode": code, "signal": sig, "reason": reason, "startedAt": started, "finishedAt": now()}
    tmp = bundle_dir / "exit.json.tmp"
    tmp.write_text(json.dumps(result))
    tmp.replace(bundle_dir / "exit.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
