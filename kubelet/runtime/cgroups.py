"""The cgroup directories the runc driver's containers leave, found and removed.

runc (cgroupfs driver) makes `<mount>/<cgroupsPath>` in every mounted hierarchy: each v1
controller, the named `systemd` one and, on hybrid hosts, the `unified` cgroup2 mount —
so cleanup walks whatever /proc/self/mountinfo lists, not a fixed list of controllers.
Only `rmdir` is used: the kernel refuses it while a cgroup still has processes or
children, so a running container's cgroup can never be taken away by mistake.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from pathlib import Path


def cgroup_mounts(mountinfo: str | None = None) -> list[Path]:
    """Mount points of every cgroup (v1) and cgroup2 hierarchy on this host."""
    if mountinfo is None:
        try:
            mountinfo = Path("/proc/self/mountinfo").read_text()
        except OSError:
            return []
    mounts = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, fstype = left.split(), (right.split() or [""])[0]
        if fstype in ("cgroup", "cgroup2") and len(fields) >= 5:
            mounts.append(Path(fields[4].replace("\\040", " ")))
    return mounts


def cgroup_dirs(relative: str, mounts: Iterable[Path] | None = None) -> list[Path]:
    """`relative` (a cgroupsPath such as /kube-py/kpab12cd/ID) in every hierarchy where it exists."""
    found = []
    for mount in cgroup_mounts() if mounts is None else mounts:
        path = mount / relative.strip("/")
        if path.is_dir():
            found.append(path)
    return found


def remove_tree(path: Path) -> bool:
    """rmdir `path` and its sub-cgroups, deepest first; True when it is gone."""
    if not path.is_dir():
        return True
    for root, dirs, _files in os.walk(path, topdown=False):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(root, name))
    with contextlib.suppress(OSError):
        os.rmdir(path)
    return not path.exists()


def remove_cgroup(relative: str, mounts: Iterable[Path] | None = None) -> list[Path]:
    """Remove `relative` from every hierarchy; → the directories that stayed (still in use)."""
    return [path for path in cgroup_dirs(relative, mounts) if not remove_tree(path)]


def remove_children(relative: str, keep: set[str], mounts: Iterable[Path] | None = None) -> None:
    """Remove the sub-cgroups of `relative` whose names are not in `keep` (stale containers)."""
    for parent in cgroup_dirs(relative, mounts):
        for child in parent.iterdir():
            if child.is_dir() and child.name not in keep:
                remove_tree(child)


def remove_if_empty(relative: str, mounts: Iterable[Path] | None = None) -> None:
    """rmdir `relative` where it has no sub-cgroups left (a parent shared with other nodes)."""
    for path in cgroup_dirs(relative, mounts):
        with contextlib.suppress(OSError):
            os.rmdir(path)
