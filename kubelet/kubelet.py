"""`kube-py kubelet`: register the Node, keep its Lease fresh, run the pods bound to it.

The kubelet is a client of the API server like everything else: it creates or updates
its Node (capacity, allocatable, addresses, kubelet port, labels, conditions), renews a
Lease in `kube-node-lease` every 10 s, re-registers if the Node is deleted, and watches
pods with `spec.nodeName=<node>`, one PodWorker each. At start it asks the runtime for
the containers it already runs so a restart adopts them instead of duplicating them.
A pod whose worker has terminated it stays terminated until the API removes it (a
finalizer can keep it a while): later events for it start no new worker, which would know
nothing of its containers and rewrite it as Pending (the pod workers' "finished" state).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import platform
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from apimachinery.errors import StatusError
from kubeclient.events import EventRecorder
from kubeclient.informer import Informer, meta_key
from kubeclient.rest import ApiClient
from kubelet.dns.resolvconf import HostResolv, hosts_file, resolv_conf
from kubelet.dns.server import DnsConfig, run_dns
from kubelet.objects import ApiObjects
from kubelet.podworker import PodWorker
from kubelet.runtime.interface import ContainerStatus, Runtime
from kubelet.volumes import MountedVolume

log = logging.getLogger(__name__)
Obj = dict[str, Any]

LEASE_DURATION = 40
HEARTBEAT = 10.0
KUBELET_VERSION = "v1.32.0-kube-py"


def micro_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def machine_capacity() -> dict[str, str]:
    memory = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        memory = 8 * 1024**3
    return {"cpu": str(os.cpu_count() or 1), "memory": f"{memory // 1024}Ki", "pods": "110",
            "ephemeral-storage": "100Gi"}


def parse_capacity(text: str) -> dict[str, str]:
    capacity = machine_capacity()
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = item.partition("=")
        if not value:
            raise ValueError(f"--capacity expects key=value pairs, got {item!r}")
        capacity[key] = value
    return capacity


@dataclass
class DnsSettings:
    """--dns, --cluster-dns, --cluster-domain."""

    serve: bool = False  # run the cluster DNS server on this node's pod gateway
    cluster_dns: list[str] = field(default_factory=list)  # the nameservers ClusterFirst pods get
    cluster_domain: str = "cluster.local"


class Kubelet:
    def __init__(self, client: ApiClient, node_name: str, runtime: Runtime, *, node_ip: str = "127.0.0.1",
                 capacity: dict[str, str] | None = None, port: int = 0, labels: dict[str, str] | None = None,
                 pod_cidr: str = "", data_dir: str | Path = "", dns: DnsSettings | None = None) -> None:
        self.client = client
        self.node_name = node_name
        self.runtime = runtime
        self.node_ip = node_ip
        self.capacity = capacity or machine_capacity()
        self.port = port
        self.labels = labels or {}
        self.pod_cidr = pod_cidr
        self.data_dir = Path(data_dir) if data_dir else Path(f"/tmp/kube-py-kubelet-{node_name}")
        self.recorder = EventRecorder(client, "kubelet", host=node_name)
        self.objects = ApiObjects(client)  # ConfigMaps and Secrets for env vars and volumes
        self.workers: dict[str, PodWorker] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.adoptable: dict[str, list[ContainerStatus]] = {}
        self.terminated: set[str] = set()  # uids terminated by their worker, until the API deletes them
        self.pods = Informer(client, "pods", field_selector=f"spec.nodeName={node_name}")
        self.pods.add_handlers(on_add=self._pod_seen, on_update=self._pod_updated, on_delete=self._pod_gone)
        self.boot_id = str(uuid.uuid4())
        self._runner: web.AppRunner | None = None
        self.dns = dns or DnsSettings()

    # ---- node and lease ------------------------------------------------------------

    def node_object(self) -> Obj:
        now = now_rfc3339()
        labels = {"kubernetes.io/hostname": self.node_name, "kubernetes.io/os": "linux",
                  "kubernetes.io/arch": {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(),
                                                                                   platform.machine()),
                  "beta.kubernetes.io/os": "linux", **self.labels}
        spec: Obj = {}
        if self.pod_cidr:
            spec = {"podCIDR": self.pod_cidr, "podCIDRs": [self.pod_cidr]}
        return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": self.node_name, "labels": labels},
                "spec": spec, "status": self.node_status(now)}

    def node_status(self, now: str) -> Obj:
        def condition(kind: str, status: str, reason: str, message: str) -> Obj:
            return {"type": kind, "status": status, "reason": reason, "message": message,
                    "lastHeartbeatTime": now, "lastTransitionTime": now}

        return {
            "capacity": dict(self.capacity), "allocatable": dict(self.capacity),
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                          "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "addresses": [{"type": "InternalIP", "address": self.node_ip},
                          {"type": "Hostname", "address": self.node_name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            "nodeInfo": {"machineID": uuid.uuid5(uuid.NAMESPACE_DNS, self.node_name).hex, "systemUUID": self.boot_id,
                         "bootID": self.boot_id, "kernelVersion": platform.release(),
                         "osImage": _os_image(), "containerRuntimeVersion": f"{self.runtime.name}://kube-py",
                         "kubeletVersion": KUBELET_VERSION, "kubeProxyVersion": KUBELET_VERSION,
                         "operatingSystem": "linux", "architecture": "amd64"},
        }

    async def register(self) -> Obj:
        body = self.node_object()
        try:
            node = await self.client.create("nodes", body)
            log.info("registered node %s", self.node_name)
            self.recorder.event(node, "Normal", "Starting", "Starting kubelet.")
            return node
        except StatusError as exc:
            if exc.code != 409:
                raise
        current = await self.client.get("nodes", self.node_name)
        return await self._post_node_status(current)

    async def _post_node_status(self, current: Obj) -> Obj:
        status = self.node_status(now_rfc3339())
        old = {c["type"]: c for c in (current.get("status") or {}).get("conditions") or []}
        for cond in status["conditions"]:
            previous = old.get(cond["type"])
            if previous and previous.get("status") == cond["status"]:
                cond["lastTransitionTime"] = previous.get("lastTransitionTime", cond["lastTransitionTime"])
        return await self.client.patch("nodes", self.node_name, {"status": status}, subresource="status",
                                       patch_type="merge")

    async def heartbeat_loop(self) -> None:
        while True:
            try:
                try:
                    current = await self.client.get("nodes", self.node_name)
                    await self._post_node_status(current)
                except StatusError as exc:
                    if exc.code != 404:
                        raise
                    await self.register()
                await self.renew_lease()
            except StatusError as exc:
                log.warning("heartbeat for %s failed: %s", self.node_name, exc)
            await asyncio.sleep(HEARTBEAT)

    async def pod_cidr_loop(self, node: Obj) -> None:
        """Without `--pod-cidr`, a runtime with a pod network takes the range the node IPAM
        controller writes into `node.spec.podCIDR`; pods wait ("network is not ready") until then."""
        set_pod_cidr = getattr(self.runtime, "set_pod_cidr", None)
        if set_pod_cidr is None or getattr(self.runtime, "pod_cidr", ""):
            return
        while True:
            cidr = str((node.get("spec") or {}).get("podCIDR") or "")
            if cidr:
                set_pod_cidr(cidr)
                self.pod_cidr = cidr
                log.info("node %s: pod CIDR %s", self.node_name, cidr)
                return
            await asyncio.sleep(0.2)
            try:
                node = await self.client.get("nodes", self.node_name)
            except StatusError as exc:
                log.debug("reading node %s for its pod CIDR: %s", self.node_name, exc)

    async def renew_lease(self) -> None:
        spec = {"holderIdentity": self.node_name, "leaseDurationSeconds": LEASE_DURATION, "renewTime": micro_now()}
        try:
            lease = await self.client.get("leases", self.node_name, "kube-node-lease")
        except StatusError as exc:
            if exc.code != 404:
                raise
            node = await self.client.get("nodes", self.node_name)
            body = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.node_name, "namespace": "kube-node-lease",
                                 "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": self.node_name,
                                                      "uid": node["metadata"]["uid"]}]},
                    "spec": spec}
            await self.client.create("leases", body, "kube-node-lease")
            return
        lease["spec"] = {**(lease.get("spec") or {}), **spec}
        await self.client.update("leases", lease, "kube-node-lease")

    # ---- pods ----------------------------------------------------------------------

    def _pod_seen(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        if uid in self.terminated:
            return
        worker = self.workers.get(uid)
        if worker is not None:
            worker.update(pod)
            return
        worker = PodWorker(self, pod, self.adoptable.pop(uid, None))
        self.workers[uid] = worker
        task = asyncio.create_task(worker.run(), name=f"pod-{meta_key(pod)}")
        self.tasks[uid] = task
        task.add_done_callback(lambda _t, u=uid: self._worker_done(u))

    def _worker_done(self, uid: str) -> None:
        worker = self.workers.pop(uid, None)
        self.tasks.pop(uid, None)
        if worker is not None and worker.finished and not worker.deleted_from_api:
            self.terminated.add(uid)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("uid") != new["metadata"].get("uid"):
            self._pod_gone(old)  # deleted and made again under the same name between two lists
        self._pod_seen(new)

    def _pod_gone(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        self.terminated.discard(uid)
        worker = self.workers.get(uid)
        if worker is not None:
            worker.api_deleted()

    def mounts_for(self, pod: Obj, container: Obj, pod_ip: str = "",
                   volumes: dict[str, MountedVolume] | None = None) -> list[dict[str, Any]]:
        """The container's volumeMounts onto the pod's volumes as the pod worker set them up
        (kubelet/volumes.py; configMap, secret, downwardAPI and projected ones read-only).
        Containers with their own root filesystem also get the kubelet's /etc/resolv.conf
        (the pod's dnsPolicy) and /etc/hosts, as Kubernetes' kubelet mounts them."""
        mounts = []
        for mount in container.get("volumeMounts") or []:
            volume = (volumes or {}).get(mount.get("name"))
            if volume is None:
                continue
            mounts.append({"hostPath": volume.path, "containerPath": mount["mountPath"],
                           "readOnly": bool(mount.get("readOnly")) or volume.read_only})
        if self.runtime.isolated_rootfs:
            mounts += self._etc_files(pod, pod_ip)
        return mounts

    def _etc_files(self, pod: Obj, pod_ip: str) -> list[dict[str, Any]]:
        pod_dir = self.data_dir / "pods" / pod["metadata"]["uid"]
        pod_dir.mkdir(parents=True, exist_ok=True)
        try:
            host = HostResolv.parse(Path("/etc/resolv.conf").read_text())
        except OSError:
            host = HostResolv()
        files = {"/etc/resolv.conf": resolv_conf(pod, self.dns.cluster_dns, self.dns.cluster_domain, host),
                 "/etc/hosts": hosts_file(pod, pod_ip, self.dns.cluster_domain)}
        mounts = []
        for target, text in files.items():
            path = pod_dir / target.replace("/etc/", "etc-")
            path.write_text(text)
            mounts.append({"hostPath": str(path), "containerPath": target, "readOnly": False})
        return mounts

    async def dns_loop(self, stop: asyncio.Event) -> None:
        """`--dns`: serve cluster DNS on the pod network's gateway once the pod CIDR is known,
        and name that address in the resolv.conf of pods started from then on."""
        if not self.dns.serve:
            return
        while not (self.pod_cidr or getattr(self.runtime, "pod_cidr", "")):
            await asyncio.sleep(0.2)
        cidr = self.pod_cidr or self.runtime.pod_cidr
        gateway = str(next(ipaddress.ip_network(cidr, strict=False).hosts()))
        if not self.dns.cluster_dns:
            self.dns.cluster_dns = [gateway]
        try:
            await run_dns(self.client, stop, DnsConfig(address=gateway, port=53, domain=self.dns.cluster_domain))
        except OSError as exc:
            log.error("cluster DNS on %s:53 could not start: %s", gateway, exc)

    async def adopt_existing(self) -> None:
        for pod_uid, _name, status in await self.runtime.list_containers():
            self.adoptable.setdefault(pod_uid, []).append(status)

    async def remove_orphans(self) -> None:
        """Containers of pods that no longer exist on this node are stopped and removed."""
        live = {p["metadata"]["uid"] for p in self.pods.list()}
        for pod_uid, statuses in list(self.adoptable.items()):
            if pod_uid in live:
                continue
            for status in statuses:
                await self.runtime.stop_container(status.id, 0)
                await self.runtime.remove_container(status.id)
            await self.runtime.remove_sandbox(pod_uid)
            del self.adoptable[pod_uid]

    # ---- lifecycle -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        from kubelet.server import build_server

        self._runner = await build_server(self, self.node_ip, self.port)
        self.port = self._runner.addresses[0][1] if self._runner.addresses else self.port
        await self.adopt_existing()
        node = await self.register()
        heartbeat = asyncio.create_task(self.heartbeat_loop())
        cidr_watch = asyncio.create_task(self.pod_cidr_loop(node))
        dns = asyncio.create_task(self.dns_loop(stop))
        self.pods.start()
        await self.pods.wait_synced(timeout=120)
        await self.remove_orphans()
        log.info("kubelet %s ready (%s driver, %s)", self.node_name, self.runtime.name, self.node_ip)
        try:
            await stop.wait()
        finally:
            heartbeat.cancel()
            cidr_watch.cancel()
            dns.cancel()
            await self.pods.stop()
            for task in list(self.tasks.values()):
                task.cancel()
            await asyncio.gather(heartbeat, cidr_watch, dns, *self.tasks.values(), return_exceptions=True)
            await self.recorder.flush()
            await self.runtime.close()
            if self._runner is not None:
                await self._runner.cleanup()


def _os_image() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return socket.gethostname()
