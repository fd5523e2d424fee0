"""Server-side Table printing with kubectl's columns (pkg/printers/internalversion/printers.go).

`kubectl get` asks for `as=Table` and prints what comes back, so the columns, their
priorities (1 = only with `-o wide`) and the cell text are decided here, per kind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apimachinery.timeutil import parse_time
from apiserver.resources import ResourceInfo

Obj = dict[str, Any]


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years, days = hours // (24 * 365), (hours // 24) % 365
    if years < 8:
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{years}y"


def translate_timestamp_since(ts: str | None, now: datetime | None = None) -> str:
    moment = parse_time(ts)
    if moment is None:
        return "<unknown>"
    return human_duration(((now or datetime.now(UTC)) - moment).total_seconds())


def _col(name: str, description: str = "", priority: int = 0, fmt: str = "", kind: str = "string") -> Obj:
    return {"name": name, "type": kind, "format": fmt, "description": description, "priority": priority}


NAME = _col("Name", "Name must be unique within a namespace.", fmt="name")
AGE = _col("Age", "CreationTimestamp is a timestamp representing the server time when this object was created.")


def _containers(template_spec: Obj) -> tuple[str, str]:
    containers = template_spec.get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector(selector: Obj | None) -> str:
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for e in selector.get("matchExpressions") or []:
        op = e.get("operator")
        values = ",".join(e.get("values") or [])
        if op == "In":
            parts.append(f"{e['key']} in ({values})")
        elif op == "NotIn":
            parts.append(f"{e['key']} notin ({values})")
        elif op == "Exists":
            parts.append(e["key"])
        elif op == "DoesNotExist":
            parts.append(f"!{e['key']}")
    return ",".join(parts) or "<none>"


def pod_status_reason(pod: Obj) -> str:
    """The STATUS column (semantics.md §5.9)."""
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    for c in status.get("conditions") or []:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_statuses = status.get("initContainerStatuses") or []
    init_count = len(spec.get("initContainers") or [])
    initializing = False
    for i, cs in enumerate(init_statuses):
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode") == 0:
            continue
        if terminated:
            if terminated.get("reason"):
                reason = f"Init:{terminated['reason']}"
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode')}"
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{i}/{init_count}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = f"Signal:{terminated['signal']}" if terminated.get("signal") else \
                    f"ExitCode:{terminated.get('exitCode')}"
            elif state.get("running") and cs.get("ready"):
                has_running = True
        if reason == "Completed" and has_running:
            ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
            reason = "Running" if ready else "NotReady"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_row(pod: Obj, now: datetime) -> list[Any]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len(spec.get("containers") or [])
    ready = sum(1 for cs in statuses if cs.get("ready") and (cs.get("state") or {}).get("running"))
    restarts = sum(int(cs.get("restartCount") or 0) for cs in statuses)
    last = None
    for cs in statuses:
        finished = parse_time(((cs.get("lastState") or {}).get("terminated") or {}).get("finishedAt"))
        if finished and (last is None or finished > last):
            last = finished
    restarts_cell: Any = restarts
    if restarts and last is not None:
        restarts_cell = f"{restarts} ({human_duration((now - last).total_seconds())} ago)"
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        gates_cell = f"{sum(1 for g in gates if conds.get(g.get('conditionType')) == 'True')}/{len(gates)}"
    return [pod["metadata"]["name"], f"{ready}/{total}", pod_status_reason(pod), restarts_cell,
            translate_timestamp_since(pod["metadata"].get("creationTimestamp"), now),
            status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", gates_cell]


def _deployment_row(d: Obj, now: datetime) -> list[Any]:
    spec, status = d.get("spec") or {}, d.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [d["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0),
            translate_timestamp_since(d["metadata"].get("creationTimestamp"), now), names, images,
            _selector(spec.get("selector"))]


def _replicaset_row(rs: Obj, now: datetime) -> list[Any]:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [rs["metadata"]["name"], spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), translate_timestamp_since(rs["metadata"].get("creationTimestamp"), now),
            names, images, _selector(spec.get("selector"))]


def job_status(job: Obj) -> str:
    conds = {c.get("type"): c.get("status") for c in (job.get("status") or {}).get("conditions") or []}
    for kind, text in (("Failed", "Failed"), ("Complete", "Complete"), ("Suspended", "Suspended"),
                       ("FailureTarget", "FailureTarget"), ("SuccessCriteriaMet", "SuccessCriteriaMet")):
        if conds.get(kind) == "True":
            return text
    if (job.get("metadata") or {}).get("deletionTimestamp"):
        return "Terminating"
    return "Running"


def _job_row(job: Obj, now: datetime) -> list[Any]:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    completions = spec.get("completions")
    parallelism = spec.get("parallelism", 1)
    succeeded = status.get("succeeded", 0)
    if completions is not None:
        completions_cell = f"{succeeded}/{completions}"
    elif parallelism and parallelism > 1:
        completions_cell = f"{succeeded}/1 of {parallelism}"
    else:
        completions_cell = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration(((end or now) - start).total_seconds())
    names, images = _containers(((spec.get("template") or {}).get("spec")) or {})
    return [job["metadata"]["name"], job_status(job), completions_cell, duration,
            translate_timestamp_since(job["metadata"].get("creationTimestamp"), now), names, images,
            _selector(spec.get("selector"))]


def _service_row(svc: Obj, now: datetime) -> list[Any]:
    spec = svc.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    external = "<none>"
    if kind == "ExternalName":
        external = spec.get("externalName") or "<none>"
    elif spec.get("externalIPs"):
        external = ",".join(spec["externalIPs"])
    elif kind == "LoadBalancer":
        ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
        external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or "<pending>"
    ports = []
    for p in spec.get("ports") or []:
        text = f"{p.get('port')}"
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        ports.append(f"{text}/{p.get('protocol', 'TCP')}")
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items())) or "<none>"
    return [svc["metadata"]["name"], kind, spec.get("clusterIP") or "<none>", external, ",".join(ports) or "<none>",
            translate_timestamp_since(svc["metadata"].get("creationTimestamp"), now), selector]


def _endpoints_row(ep: Obj, now: datetime) -> list[Any]:
    pairs = []
    for subset in ep.get("subsets") or []:
        ports = subset.get("ports") or [{}]
        for address in subset.get("addresses") or []:
            for port in ports:
                pairs.append(f"{address['ip']}:{port['port']}" if port.get("port") else address["ip"])
    text = ",".join(pairs[:3]) + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "") if pairs else "<none>"
    return [ep["metadata"]["name"], text, translate_timestamp_since(ep["metadata"].get("creationTimestamp"), now)]


def list_with_more(items: list[str], limit: int = 3) -> str:
    """printers.go listWithMoreString: the first three, `+ N more...`, `<unset>` when empty."""
    if len(items) > limit:
        return f"{','.join(items[:limit])} + {len(items) - limit} more..."
    return ",".join(items) or "<unset>"


def _endpoint_slice_row(eps: Obj, now: datetime) -> list[Any]:
    ports = [str(p["port"]) if p.get("port") is not None else p["name"] if p.get("name") is not None else "*"
             for p in eps.get("ports") or []]
    addresses = [a for e in eps.get("endpoints") or [] for a in e.get("addresses") or []]
    return [eps["metadata"]["name"], eps.get("addressType", ""), list_with_more(ports), list_with_more(addresses),
            translate_timestamp_since(eps["metadata"].get("creationTimestamp"), now)]


def node_status_text(node: Obj) -> str:
    conds = {c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []}
    ready = conds.get("Ready")
    parts = ["Ready" if ready == "True" else "NotReady" if ready == "False" else "Unknown"]
    if (node.get("spec") or {}).get("unschedulable"):
        parts.append("SchedulingDisabled")
    return ",".join(parts)


def _node_row(node: Obj, now: datetime) -> list[Any]:
    labels = node["metadata"].get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k)
    if labels.get("kubernetes.io/role"):
        roles.append(labels["kubernetes.io/role"])
    status = node.get("status") or {}
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [node["metadata"]["name"], node_status_text(node), ",".join(roles) or "<none>",
            translate_timestamp_since(node["metadata"].get("creationTimestamp"), now), info.get("kubeletVersion", ""),
            addresses.get("InternalIP") or "<none>", addresses.get("ExternalIP") or "<none>",
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def _namespace_row(ns: Obj, now: datetime) -> list[Any]:
    return [ns["metadata"]["name"], (ns.get("status") or {}).get("phase", ""),
            translate_timestamp_since(ns["metadata"].get("creationTimestamp"), now)]


def _event_row(ev: Obj, now: datetime) -> list[Any]:
    last = ev.get("lastTimestamp") or ev.get("eventTime") or ev["metadata"].get("creationTimestamp")
    first = ev.get("firstTimestamp") or last
    count = ev.get("count") or 1
    last_seen = translate_timestamp_since(last, now)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {translate_timestamp_since(first, now)})"
    obj = ev.get("involvedObject") or {}
    source = ev.get("source") or {}
    return [last_seen, ev.get("type", ""), ev.get("reason", ""),
            f"{(obj.get('kind') or '').lower()}/{obj.get('name', '')}", ev.get("message", ""),
            source.get("component", "") + (f", {source['host']}" if source.get("host") else ""),
            translate_timestamp_since(first, now), count, ev["metadata"]["name"]]


def _lease_row(lease: Obj, now: datetime) -> list[Any]:
    return [lease["metadata"]["name"], (lease.get("spec") or {}).get("holderIdentity") or "<none>",
            translate_timestamp_since(lease["metadata"].get("creationTimestamp"), now)]


def _apiservice_row(apiservice: Obj, now: datetime) -> list[Any]:
    spec = apiservice.get("spec") or {}
    service = spec.get("service")
    where = f"{service.get('namespace', '')}/{service.get('name', '')}" if isinstance(service, dict) else "Local"
    available = "Unknown"
    for condition in (apiservice.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Available":
            status, reason = condition.get("status", ""), condition.get("reason", "")
            available = status if status == "True" or not reason else f"{status} ({reason})"
            break
    return [apiservice["metadata"]["name"], where, available,
            translate_timestamp_since(apiservice["metadata"].get("creationTimestamp"), now)]


Printer = tuple[list[Obj], Callable[[Obj, datetime], list[Any]]]

PRINTERS: dict[str, Printer] = {
    "Pod": ([NAME, _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
             _col("Status", "The aggregate status of the containers in this pod."),
             _col("Restarts", "The number of times the containers in this pod have been restarted and when the "
                              "last container in this pod has restarted."),
             AGE, _col("IP", "IP address allocated to the pod.", 1), _col("Node", "Name of the node.", 1),
             _col("Nominated Node", "Name of the nominated node.", 1),
             _col("Readiness Gates", "Pod readiness gates.", 1)], _pod_row),
    "Deployment": ([NAME, _col("Ready", "Number of the pod with ready state"),
                    _col("Up-to-date", "Total number of non-terminated pods targeted by this deployment that have "
                                       "the desired template spec."),
                    _col("Available", "Total number of available pods (ready for at least minReadySeconds)."),
                    AGE, _col("Containers", "Names of each container in the template.", 1),
                    _col("Images", "Images referenced by each container in the template.", 1),
                    _col("Selector", "Label selector for pods.", 1)], _deployment_row),
    "ReplicaSet": ([NAME, _col("Desired", "Number of desired pods.", kind="integer"),
                    _col("Current", "Number of actual pods.", kind="integer"),
                    _col("Ready", "Number of pods ready.", kind="integer"), AGE,
                    _col("Containers", "Names of each container in the template.", 1),
                    _col("Images", "Images referenced by each container in the template.", 1),
                    _col("Selector", "Label selector for pods.", 1)], _replicaset_row),
    "Job": ([NAME, _col("Status", "Status of the job."), _col("Completions", "The completion status of the job."),
             _col("Duration", "Time required to complete the job."), AGE,
             _col("Containers", "Names of each container in the template.", 1),
             _col("Images", "Images referenced by each container in the template.", 1),
             _col("Selector", "Label selector for pods.", 1)], _job_row),
    "Service": ([NAME, _col("Type", "The type of the service."), _col("Cluster-IP", "The cluster IP of the service."),
                 _col("External-IP", "The external IP of the service."),
                 _col("Port(s)", "The ports of the service."), AGE,
                 _col("Selector", "The selector of the service.", 1)], _service_row),
    "Endpoints": ([NAME, _col("Endpoints", "Endpoints of the service."), AGE], _endpoints_row),
    "Node": ([NAME, _col("Status", "The status of the node."), _col("Roles", "The roles of the node."), AGE,
              _col("Version", "Kubelet version."), _col("Internal-IP", "Internal IP.", 1),
              _col("External-IP", "External IP.", 1), _col("OS-Image", "OS image.", 1),
              _col("Kernel-Version", "Kernel version.", 1),
              _col("Container-Runtime", "Container runtime version.", 1)], _node_row),
    "Namespace": ([NAME, _col("Status", "The status of the namespace."), AGE], _namespace_row),
    "Event": ([_col("Last Seen", "Time since the event was last seen."), _col("Type", "The type of the event."),
               _col("Reason", "The reason of the event."), _col("Object", "The object the event is about."),
               _col("Message", "The message of the event."), _col("Source", "The source of the event.", 1),
               _col("First Seen", "Time since the event was first seen.", 1),
               _col("Count", "How many times the event occurred.", 1, kind="integer"),
               _col("Name", "The name of the event.", 1, fmt="name")], _event_row),
    "Lease": ([NAME, _col("Holder", "The holder of the lease."), AGE], _lease_row),
    "APIService": ([NAME, _col("Service", "The reference to the service that hosts this API endpoint."),
                    _col("Available", "Whether this service is available."), AGE], _apiservice_row),
    "EndpointSlice": ([NAME, _col("AddressType", "addressType specifies the type of address carried by this "
                                                 "EndpointSlice."),
                       _col("Ports", "ports specifies the list of network ports exposed by each endpoint in this "
                                     "slice."),
                       _col("Endpoints", "endpoints is a list of unique endpoints in this slice."), AGE],
                      _endpoint_slice_row),
}


def _row_object(obj: Obj, include_object: str) -> Obj | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata") or {}}


def to_table(resource: ResourceInfo, objects: list[Obj], *, list_meta: Obj | None = None,
             include_object: str = "Metadata", now: datetime | None = None) -> Obj:
    now = now or datetime.now(UTC)
    columns, row_of = PRINTERS.get(resource.kind, ([NAME, AGE], lambda o, n: [
        o["metadata"]["name"], translate_timestamp_since(o["metadata"].get("creationTimestamp"), n)]))
    rows = []
    for obj in objects:
        row: Obj = {"cells": row_of(obj, now)}
        attached = _row_object(obj, include_object)
        if attached is not None:
            row["object"] = attached
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": dict(list_meta or {}),
            "columnDefinitions": columns, "rows": rows}
