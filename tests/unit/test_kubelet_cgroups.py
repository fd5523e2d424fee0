"""Finding every cgroup hierarchy from mountinfo (v1 controllers, the named systemd one,
the hybrid unified cgroup2), and removing directories deepest first (kubelet/runtime/cgroups.py)."""

from __future__ import annotations

from pathlib import Path

from kubelet.runtime.cgroups import cgroup_mounts, remove_cgroup, remove_children, remove_if_empty

MOUNTINFO = """\
25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw
31 25 0:26 / /sys/fs/cgroup rw shared:9 - tmpfs tmpfs rw,mode=755
32 31 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw
33 31 0:28 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd
34 31 0:29 / /sys/fs/cgroup/memory rw shared:12 - cgroup cgroup rw,memory
"""


def test_cgroup_mounts_lists_every_hierarchy() -> None:
    assert cgroup_mounts(MOUNTINFO) == [Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/systemd"),
                                        Path("/sys/fs/cgroup/memory")]


def test_removal_is_deepest_first_and_only_what_was_asked(tmp_path: Path) -> None:
    mounts = [tmp_path / "memory", tmp_path / "systemd"]
    for mount in mounts:
        for cid in ("keep-1", "stale-2"):
            (mount / "kube-py" / "kpabc" / cid / "nested").mkdir(parents=True)
        (mount / "kube-py" / "kpother").mkdir(parents=True)
    remove_children("/kube-py/kpabc", keep={"keep-1"}, mounts=mounts)
    assert all(sorted(p.name for p in (m / "kube-py" / "kpabc").iterdir()) == ["keep-1"] for m in mounts)
    assert remove_cgroup("/kube-py/kpabc", mounts) == []
    remove_if_empty("/kube-py", mounts)
    assert all(sorted(p.name for p in (m / "kube-py").iterdir()) == ["kpother"] for m in mounts)
    remove_cgroup("/kube-py/kpother", mounts)
    remove_if_empty("/kube-py", mounts)
    assert all(not (m / "kube-py").exists() for m in mounts)
