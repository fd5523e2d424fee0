"""Hosts as network namespaces (machine-notes §7.3/7.4): one root-namespace bridge as the
shared L2 segment, one netns per host with `eth0` on it, per-worker pod CIDRs routed
host-to-host and from the root namespace, so pods on different hosts reach each other
and the user's shell reaches every host and pod.

These are plain, synchronous `ip` calls: the cluster tool is a short-lived command, not
an event loop, and every step costs a few milliseconds.
"""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

NETNS_DIR = Path("/var/run/netns")


class NetError(RuntimeError):
    pass


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise NetError(f"ip {' '.join(args)}: {proc.stderr.strip()}")
    return proc


def used_ipv4_networks() -> list[ipaddress.IPv4Network]:
    """Every IPv4 network the root namespace already has an address or a route in."""
    out = ip("-4", "-o", "addr", "show").stdout + ip("-4", "route", "show").stdout
    networks = []
    for token in out.split():
        if "/" in token:
            try:
                networks.append(ipaddress.IPv4Network(token, strict=False))
            except ValueError:
                continue
    return networks


def pick_subnet_index(taken_by_others: set[int]) -> int:
    """A free index N for the underlay 10.88.N.0/24 and the pod range 10.(128+N).0.0/16,
    skipping what this machine (or another test cluster) already uses."""
    used = used_ipv4_networks()
    for index in range(1, 64):
        underlay = ipaddress.IPv4Network(f"10.88.{index}.0/24")
        pods = ipaddress.IPv4Network(f"10.{128 + index}.0.0/16")
        if index in taken_by_others or any(n.overlaps(underlay) or n.overlaps(pods) for n in used):
            continue
        return index
    raise NetError("no free 10.88.N.0/24 underlay left (63 test clusters at once?)")


def netns_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def create_bridge(name: str, gateway_cidr: str) -> None:
    ip("link", "add", name, "type", "bridge")
    ip("addr", "add", gateway_cidr, "dev", name)
    ip("link", "set", name, "up")


def create_host_netns(netns: str, veth: str, bridge: str, address_cidr: str, gateway: str) -> None:
    ip("netns", "add", netns)
    ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
    ip("link", "set", veth, "master", bridge, "up")
    ip("-n", netns, "addr", "add", address_cidr, "dev", "eth0")
    ip("-n", netns, "link", "set", "eth0", "up")
    ip("-n", netns, "link", "set", "lo", "up")
    ip("-n", netns, "route", "add", "default", "via", gateway)
    set_forwarding(netns)


def set_forwarding(netns: str) -> None:
    proc = subprocess.run(["nsenter", f"--net={NETNS_DIR / netns}", "sysctl", "-qw", "net.ipv4.ip_forward=1"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise NetError(f"enabling forwarding in {netns}: {proc.stderr.strip()}")


def add_route(destination: str, via: str, netns: str = "") -> None:
    prefix = ("-n", netns) if netns else ()
    ip(*prefix, "route", "replace", destination, "via", via)


def del_route(destination: str) -> None:
    ip("route", "del", destination, check=False)


def set_link(veth: str, up: bool) -> None:
    ip("link", "set", veth, "up" if up else "down")


def delete_netns(name: str) -> None:
    if netns_exists(name):
        ip("netns", "del", name, check=False)


def delete_link(name: str) -> None:
    ip("link", "del", name, check=False)


def netns_names(prefix: str) -> list[str]:
    return sorted(n for n in (p.name for p in NETNS_DIR.iterdir()) if n.startswith(prefix)) \
        if NETNS_DIR.is_dir() else []
