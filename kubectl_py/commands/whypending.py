"""`why-pending POD`: why the scheduler has not placed a pod, node by node, in plain words.

kubectl shows the scheduler's one-line FailedScheduling summary ("0/3 nodes are available: 1
node(s) had untolerated taint(s), 2 Insufficient cpu"). This command re-checks the common rules
itself against every node (readiness, cordon, node selector and required affinity, taints,
CPU/memory/pods left after the requests of the pods already there) and says which one blocks.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from apimachinery.scheduling import required_affinity_matches, untolerated
from kubectl_py.builder import call, path_for
from kubectl_py.quantity import format_quantity, parse_quantity
from kubectl_py.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("why-pending", help="Explain why a pod is not scheduled", command="why-pending")
    p.add_argument("pod")
    p.set_defaults(handler=run_why_pending)


@dataclass
class Verdict:
    node: str
    reasons: list[str]


def pod_requests(pod: dict[str, Any]) -> dict[str, float]:
    spec = pod.get("spec") or {}
    total: dict[str, float] = {}
    for c in spec.get("containers") or []:
        for name, value in (((c.get("resources") or {}).get("requests")) or {}).items():
            total[name] = total.get(name, 0.0) + parse_quantity(value)
    for c in spec.get("initContainers") or []:  # init containers run one at a time: the max counts
        for name, value in (((c.get("resources") or {}).get("requests")) or {}).items():
            total[name] = max(total.get(name, 0.0), parse_quantity(value))
    return total


def _ready(node: dict[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def check_node(pod: dict[str, Any], node: dict[str, Any], pods_on_node: list[dict[str, Any]]) -> Verdict:
    """Every rule that rejects `pod` on `node`, worded for people."""
    name = node["metadata"]["name"]
    spec = pod.get("spec") or {}
    reasons: list[str] = []
    if not _ready(node):
        reasons.append("the node is not Ready")
    if (node.get("spec") or {}).get("unschedulable"):
        reasons.append("the node is cordoned (spec.unschedulable)")
    labels = (node.get("metadata") or {}).get("labels") or {}
    wrong = {k: v for k, v in (spec.get("nodeSelector") or {}).items() if labels.get(k) != v}
    if wrong:
        wanted = ", ".join(f"{k}={v}" for k, v in sorted(wrong.items()))
        reasons.append(f"the pod's nodeSelector wants {wanted}; the node's labels differ")
    without_selector = {**pod, "spec": {k: v for k, v in spec.items() if k != "nodeSelector"}}
    if not required_affinity_matches(without_selector, node):
        reasons.append("the node does not match the pod's required node affinity")
    blocking = untolerated((node.get("spec") or {}).get("taints") or [], spec.get("tolerations") or [],
                           ("NoSchedule", "NoExecute"))
    for taint in blocking:
        value = f"={taint['value']}" if taint.get("value") else ""
        reasons.append(f"the node has taint {taint.get('key')}{value}:{taint.get('effect')} and the pod does "
                       "not tolerate it")
    allocatable = {k: parse_quantity(v) for k, v in ((node.get("status") or {}).get("allocatable") or {}).items()}
    used: dict[str, float] = {}
    for other in pods_on_node:
        for key, value in pod_requests(other).items():
            used[key] = used.get(key, 0.0) + value
    wanted_resources = pod_requests(pod)
    for resource in sorted(wanted_resources):
        need = wanted_resources[resource]
        if resource not in allocatable:
            if need > 0:
                reasons.append(f"the node has no {resource} at all")
            continue
        free = allocatable[resource] - used.get(resource, 0.0)
        if need > free:
            reasons.append(f"not enough {resource}: the pod requests {format_quantity(need, resource)}, the node "
                           f"has {format_quantity(max(free, 0.0), resource)} free of "
                           f"{format_quantity(allocatable[resource], resource)} allocatable")
    if "pods" in allocatable and len(pods_on_node) + 1 > allocatable["pods"]:
        reasons.append(f"the node already runs its maximum of {int(allocatable['pods'])} pods")
    return Verdict(name, reasons)


def report(pod: dict[str, Any], nodes: list[dict[str, Any]], pods: list[dict[str, Any]],
           events: list[dict[str, Any]]) -> str:
    meta = pod["metadata"]
    lines = []
    failed = [e for e in events if e.get("reason") == "FailedScheduling"]
    failed.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    if failed:
        lines.append(f"The scheduler says: {str(failed[-1].get('message', '')).strip()}")
    else:
        lines.append("The scheduler has not reported a FailedScheduling event for this pod (yet).")
    if (pod.get("spec") or {}).get("schedulerName", "default-scheduler") != "default-scheduler":
        lines.append(f"Note: the pod asks for scheduler {pod['spec']['schedulerName']!r}, not default-scheduler.")
    if not nodes:
        lines.append("There are no nodes in the cluster.")
        return "\n".join(lines) + "\n"
    lines.append("")
    by_node: dict[str, list[dict[str, Any]]] = {}
    for other in pods:
        node_name = (other.get("spec") or {}).get("nodeName")
        phase = (other.get("status") or {}).get("phase")
        if node_name and phase not in ("Succeeded", "Failed") and other["metadata"].get("uid") != meta.get("uid"):
            by_node.setdefault(node_name, []).append(other)
    fits = []
    for node in sorted(nodes, key=lambda n: n["metadata"]["name"]):
        verdict = check_node(pod, node, by_node.get(node["metadata"]["name"], []))
        if verdict.reasons:
            lines.append(f"{verdict.node}: " + "; ".join(verdict.reasons))
        else:
            fits.append(verdict.node)
            lines.append(f"{verdict.node}: fits now (the scheduler may not have retried yet)")
    if not fits:
        lines += ["", "No node can take the pod. Free resources, add a node, or relax the pod's constraints."]
    return "\n".join(lines) + "\n"


async def run_why_pending(session: Session, args: argparse.Namespace) -> int:
    pods_resource = await session.resolver.resolve("pods")
    pod = await call(session, "GET", path_for(pods_resource, session.namespace, args.pod))
    node_name = (pod.get("spec") or {}).get("nodeName")
    if node_name:
        phase = (pod.get("status") or {}).get("phase", "")
        session.print(f'pod "{args.pod}" is not pending: it is bound to node {node_name} (phase {phase}).')
        return 0
    nodes = (await call(session, "GET", path_for(await session.resolver.resolve("nodes"))))["items"]
    all_pods = (await call(session, "GET", path_for(pods_resource, "")))["items"]
    events_resource = await session.resolver.resolve("events")
    events = (await call(session, "GET", path_for(events_resource, session.namespace), params={
        "fieldSelector": f"involvedObject.name={args.pod},involvedObject.namespace={session.namespace}"}))["items"]
    session.out.write(report(pod, nodes, all_pods, events))
    return 0
