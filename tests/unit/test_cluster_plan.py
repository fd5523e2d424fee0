"""The multi-host cluster's pure parts: host layout, subnet choice, and the ledger."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from kubepy.cluster import hostnet
from kubepy.cluster.commands import plan_hosts
from kubepy.cluster.state import ClusterState, Component, load_state


@pytest.mark.parametrize(("control_planes", "workers", "names"), [
    (1, 3, ["cp1", "node1", "node2", "node3"]),
    (3, 1, ["cp1", "cp2", "cp3", "node1"]),
    (1, 12, ["cp1"] + [f"node{i}" for i in range(1, 13)]),
])
def test_plan_hosts_names_addresses_and_pod_cidrs(control_planes: int, workers: int, names: list[str]) -> None:
    hosts = plan_hosts("kcab12", 7, control_planes, workers)
    assert [h.name for h in hosts] == names
    assert all(len(h.veth) <= 15 and h.netns == f"kcab12-{h.name}" for h in hosts)
    underlay = ipaddress.IPv4Network("10.88.7.0/24")
    assert all(ipaddress.IPv4Address(h.address) in underlay for h in hosts)
    assert len({h.address for h in hosts}) == len(hosts)
    cidrs = [ipaddress.IPv4Network(h.pod_cidr) for h in hosts if h.role == "worker"]
    assert len(cidrs) == workers and all(c.subnet_of(ipaddress.IPv4Network("10.135.0.0/16")) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1:])
    assert all(h.pod_cidr == "" for h in hosts if h.role == "control-plane")


@pytest.mark.parametrize(("used", "expected"), [
    ([], 1),
    (["10.88.1.0/24"], 2),
    (["10.88.0.0/16"], None),
    (["10.129.0.0/16", "10.88.2.5/24"], 3),
    (["10.0.0.0/8"], None),
])
def test_pick_subnet_index_skips_used_networks(monkeypatch: pytest.MonkeyPatch, used: list[str],
                                               expected: int | None) -> None:
    monkeypatch.setattr(hostnet, "used_ipv4_networks", lambda: [ipaddress.IPv4Network(u, strict=False) for u in used])
    if expected is None:
        with pytest.raises(hostnet.NetError):
            hostnet.pick_subnet_index(set())
    else:
        assert hostnet.pick_subnet_index(set()) == expected


def test_ledger_round_trips(tmp_path: Path) -> None:
    state = ClusterState(prefix="kcab12", data_dir=str(tmp_path), bridge="kcab12br", subnet="10.88.7.0/24",
                         gateway="10.88.7.1", cluster_cidr="10.135.0.0/16", driver="runc", registry="10.88.7.1:5000")
    state.hosts = plan_hosts("kcab12", 7, 1, 2)
    state.hosts[1].components = [Component("kubelet", ["python", "-m", "kubepy.cli", "kubelet"], pid=42)]
    state.root_components = [Component("registry", ["docker-registry", "serve", "x"], pid=7)]
    state.save()
    loaded = load_state(tmp_path)
    assert loaded == state
    assert loaded.server == "http://10.88.7.11:8080"
    with pytest.raises(ValueError, match='no host "node9"'):
        loaded.host("node9")


def test_missing_ledger_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kube-py cluster up"):
        load_state(tmp_path)


@pytest.mark.parametrize(("driver", "absent", "message"), [
    ("runc", {"etcd"}, "needs etcd ("),
    ("runc", {"runc", "nsenter"}, "needs nsenter, runc ("),
    ("process", {"runc"}, None),
])
def test_preflight_names_what_is_missing(monkeypatch: pytest.MonkeyPatch, driver: str, absent: set[str],
                                         message: str | None) -> None:
    from kubepy.cluster import commands

    monkeypatch.setattr(commands.shutil, "which", lambda name: None if name in absent else f"/usr/bin/{name}")
    if message is None:
        commands.preflight(driver)
    else:
        with pytest.raises(ValueError, match=re.escape(message)):
            commands.preflight(driver)
