"""The multi-host test cluster's ledger: everything `cluster up` creates is written here
*before* the next step runs, so `cluster down` can remove it all even after the tool
itself crashed half-way (a netns, a link, a route, a process, a mount).

The ledger is one JSON file, `DIR/cluster.json`, rewritten atomically on every change.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "cluster.json"


@dataclass
class Component:
    """One process of a host: how to start it again, and the PID it has now."""

    name: str
    argv: list[str]
    pid: int = 0


@dataclass
class Host:
    name: str
    role: str  # "control-plane" | "worker"
    netns: str
    veth: str  # root-namespace end, attached to the cluster bridge
    address: str
    pod_cidr: str = ""
    components: list[Component] = field(default_factory=list)
    stopped: bool = False
    cut: bool = False

    def component(self, name: str) -> Component | None:
        return next((c for c in self.components if c.name == name), None)


@dataclass
class ClusterState:
    prefix: str
    data_dir: str
    bridge: str
    subnet: str  # host underlay, e.g. 10.88.7.0/24
    gateway: str  # the bridge's address in the root namespace
    cluster_cidr: str
    driver: str
    registry: str = ""
    hosts: list[Host] = field(default_factory=list)
    root_routes: list[str] = field(default_factory=list)  # destinations routed in the root netns
    root_components: list[Component] = field(default_factory=list)  # e.g. the image registry
    bridge_created: bool = False

    @property
    def path(self) -> Path:
        return Path(self.data_dir) / STATE_FILE

    def host(self, name: str) -> Host:
        for host in self.hosts:
            if host.name == name:
                return host
        raise ValueError(f'no host "{name}" in this cluster (hosts: {", ".join(h.name for h in self.hosts)})')

    def control_planes(self) -> list[Host]:
        return [h for h in self.hosts if h.role == "control-plane"]

    def workers(self) -> list[Host]:
        return [h for h in self.hosts if h.role == "worker"]

    @property
    def server(self) -> str:
        return f"http://{self.control_planes()[0].address}:{API_PORT}"

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, self.path)


API_PORT = 8080
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
KUBELET_PORT = 10250
REGISTRY_PORT = 5000


def load_state(data_dir: str | Path) -> ClusterState:
    path = Path(data_dir) / STATE_FILE
    if not path.exists():
        raise ValueError(f"no cluster in {data_dir} (no {STATE_FILE}); start one with `kube-py cluster up`")
    raw: dict[str, Any] = json.loads(path.read_text())
    hosts = [Host(**{**h, "components": [Component(**c) for c in h["components"]]}) for h in raw.pop("hosts")]
    roots = [Component(**c) for c in raw.pop("root_components")]
    return ClusterState(**raw, hosts=hosts, root_components=roots)
