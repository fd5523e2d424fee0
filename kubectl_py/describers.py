"""`describe` output, line for line as kubectl's describers write it.

Each describer is a pure function from API objects (plus their events) to text, written through
a PrefixWriter into Go's tabwriter (minwidth 0, padding 2) so that alignment comes out exactly
as kubectl's. `pod_template` is shared with `rollout history --revision`, which prints it
without a tabwriter (raw tabs), as kubectl does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_py.quantity import format_quantity, parse_quantity
from kubectl_py.tabwriter import TabWriter
from kubectl_py.timeutil import age, describe_time, human_duration, parse_time

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
MAX_ANNOTATION_LEN = 140


@dataclass
class PrefixWriter:
    parts: list[str] = field(default_factory=list)

    def write(self, level: int, text: str) -> None:
        self.parts.append("  " * level + text)

    def line(self, text: str = "") -> None:
        self.parts.append(text + "\n")

    def text(self) -> str:
        return "".join(self.parts)

    def tabbed(self) -> str:
        writer = TabWriter(minwidth=0, padding=2)
        writer.write(self.text())
        return writer.flush()


def _g(obj: Any, *path: str, default: Any = None) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


def labels_multiline(w: PrefixWriter, title: str, labels: dict[str, str] | None, initial: str = "",
                     inner: str = "\t") -> None:
    w.write(0, f"{initial}{title}:{inner}")
    keys = sorted(labels or {})
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, initial + inner)
        w.write(0, f"{key}={labels[key]}\n")  # type: ignore[index]


def annotations_multiline(w: PrefixWriter, title: str, annotations: dict[str, str] | None) -> None:
    w.write(0, f"{title}:\t")
    keys = sorted(k for k in (annotations or {}) if k != LAST_APPLIED)
    if not keys:
        w.line("<none>")
        return
    for i, key in enumerate(keys):
        if i:
            w.write(0, "\t")
        value = annotations[key].removesuffix("\n")  # type: ignore[index]
        if len(value) + len(key) + 2 > MAX_ANNOTATION_LEN or "\n" in value:
            w.write(0, f"{key}:\n")
            for part in value.split("\n"):
                short = part if len(part) <= MAX_ANNOTATION_LEN - 2 else part[:MAX_ANNOTATION_LEN - 2] + "..."
                w.write(0, f"\t  {short}\n")
        else:
            w.write(0, f"{key}: {value}\n")


def tolerations_multiline(w: PrefixWriter, title: str, tolerations: list[dict[str, Any]] | None,
                          initial: str = "", inner: str = "\t") -> None:
    w.write(0, f"{initial}{title}:{inner}")
    if not tolerations:
        w.line("<none>")
        return
    for i, t in enumerate(sorted(tolerations, key=lambda t: t.get("key", ""))):
        if i:
            w.write(0, initial + inner)
        text = t.get("key", "")
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists" if (t.get("key") or t.get("effect")) else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        w.write(0, text + "\n")


def format_selector(selector: dict[str, Any] | None) -> str:
    """metav1.FormatLabelSelector / LabelSelectorAsSelector().String()."""
    if selector is None:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, values = expr.get("operator", ""), sorted(expr.get("values") or [])
        key = expr.get("key", "")
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    text = ",".join(sorted(parts))
    return text or "<none>"


def format_labels(labels: dict[str, str] | None) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def _ports(ports: list[dict[str, Any]], field_name: str) -> str:
    return ", ".join(f"{p.get(field_name, 0)}/{p.get('protocol', 'TCP')}" for p in ports)


def probe_text(probe: dict[str, Any]) -> str:
    attrs = (f"delay={probe.get('initialDelaySeconds', 0)}s timeout={probe.get('timeoutSeconds', 1)}s "
             f"period={probe.get('periodSeconds', 10)}s #success={probe.get('successThreshold', 1)} "
             f"#failure={probe.get('failureThreshold', 3)}")
    if "exec" in probe:
        return f"exec [{' '.join(probe['exec'].get('command') or [])}] {attrs}"
    if "httpGet" in probe:
        h = probe["httpGet"]
        scheme = str(h.get("scheme", "HTTP")).lower()
        return f"http-get {scheme}://{h.get('host', '')}:{h.get('port', '')}{h.get('path', '')} {attrs}"
    if "tcpSocket" in probe:
        t = probe["tcpSocket"]
        return f"tcp-socket {t.get('host', '')}:{t.get('port', '')} {attrs}"
    if "grpc" in probe:
        return f"grpc <pod>:{probe['grpc'].get('port')} {probe['grpc'].get('service', '')} {attrs}"
    return f"unknown {attrs}"


def _state(w: PrefixWriter, title: str, state: dict[str, Any]) -> None:
    if "running" in state:
        w.write(2, f"{title}:\tRunning\n")
        w.write(3, f"Started:\t{describe_time(_g(state, 'running', 'startedAt'))}\n")
    elif "waiting" in state:
        w.write(2, f"{title}:\tWaiting\n")
        if _g(state, "waiting", "reason"):
            w.write(3, f"Reason:\t{state['waiting']['reason']}\n")
    elif "terminated" in state:
        t = state["terminated"]
        w.write(2, f"{title}:\tTerminated\n")
        if t.get("reason"):
            w.write(3, f"Reason:\t{t['reason']}\n")
        if t.get("message"):
            w.write(3, f"Message:\t{t['message']}\n")
        w.write(3, f"Exit Code:\t{t.get('exitCode', 0)}\n")
        if t.get("signal"):
            w.write(3, f"Signal:\t{t['signal']}\n")
        w.write(3, f"Started:\t{describe_time(t.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{describe_time(t.get('finishedAt'))}\n")
    else:
        w.write(2, f"{title}:\tWaiting\n")


def containers(w: PrefixWriter, label: str, items: list[dict[str, Any]], statuses: list[dict[str, Any]] | None,
               space: str) -> None:
    by_name = {s.get("name"): s for s in statuses or []}
    w.write(0, f"{space}{label}:{'' if items else ' <none>'}\n")
    for c in items:
        status = by_name.get(c.get("name"))
        w.write(1, f"{' ' if space else ''}{c.get('name')}:\n")
        if status is not None:
            w.write(2, f"Container ID:\t{status.get('containerID', '')}\n")
        w.write(2, f"Image:\t{c.get('image', '')}\n")
        if status is not None:
            w.write(2, f"Image ID:\t{status.get('imageID', '')}\n")
        ports = c.get("ports") or []
        text = _ports(ports, "containerPort")
        w.write(2, f"Ports:\t{text}\n" if "," in text else f"Port:\t{text or '<none>'}\n")
        host = _ports(ports, "hostPort")
        w.write(2, f"Host Ports:\t{host}\n" if "," in host else f"Host Port:\t{host or '<none>'}\n")
        for title, key in (("Command", "command"), ("Args", "args")):
            if c.get(key):
                w.write(2, f"{title}:\n")
                for item in c[key]:
                    for part in str(item).split("\n"):
                        w.write(3, f"{part}\n")
        if status is not None:
            _state(w, "State", status.get("state") or {})
            if _g(status, "lastState", "terminated"):
                _state(w, "Last State", status["lastState"])
            w.write(2, f"Ready:\t{'True' if status.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{status.get('restartCount', 0)}\n")
        resources(w, c.get("resources") or {}, 2)
        for title, key in (("Liveness", "livenessProbe"), ("Readiness", "readinessProbe"),
                           ("Startup", "startupProbe")):
            if c.get(key):
                w.write(2, f"{title}:\t{probe_text(c[key])}\n")
        env = c.get("env") or []
        w.write(2, f"Environment:{'' if env else chr(9) + '<none>'}\n")
        for e in env:
            if "valueFrom" not in e:
                for i, part in enumerate(str(e.get("value", "")).split("\n")):
                    w.write(3, f"{e['name']}:\t{part}\n" if i == 0 else f"\t{part}\n")
            elif "fieldRef" in e["valueFrom"]:
                ref = e["valueFrom"]["fieldRef"]
                w.write(3, f"{e['name']}:\t ({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath', '')})\n")
            else:
                w.write(3, f"{e['name']}:\t<set from {next(iter(e['valueFrom']))}>\n")
        mounts = c.get("volumeMounts") or []
        w.write(2, f"Mounts:{'' if mounts else chr(9) + '<none>'}\n")
        for m in sorted(mounts, key=lambda m: m.get("mountPath", "")):
            flags = ["ro" if m.get("readOnly") else "rw"]
            if m.get("subPath"):
                flags.append(f'path="{m["subPath"]}"')
            w.write(3, f"{m.get('mountPath')} from {m.get('name')} ({','.join(flags)})\n")


def resources(w: PrefixWriter, res: dict[str, Any], level: int) -> None:
    for title, key in (("Limits", "limits"), ("Requests", "requests")):
        values = res.get(key) or {}
        if values:
            w.write(level, f"{title}:\n")
        for name in sorted(values):
            w.write(level + 1, f"{name}:\t{values[name]}\n")


def volumes(w: PrefixWriter, items: list[dict[str, Any]], space: str) -> None:
    if not items:
        w.write(0, f"{space}Volumes:\t<none>\n")
        return
    w.write(0, f"{space}Volumes:\n")
    for v in items:
        w.write(1, f"{' ' if space else ''}{v.get('name')}:\n")
        if "hostPath" in v:
            w.write(2, "Type:\tHostPath (bare host directory volume)\n"
                       f"    Path:\t{v['hostPath'].get('path', '')}\n"
                       f"    HostPathType:\t{v['hostPath'].get('type') or '<none>'}\n")
        elif "emptyDir" in v:
            e = v["emptyDir"] or {}
            w.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n"
                       f"    Medium:\t{e.get('medium', '')}\n"
                       f"    SizeLimit:\t{e.get('sizeLimit') or '<unset>'}\n")
        elif "configMap" in v:
            w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n"
                       f"    Name:\t{v['configMap'].get('name', '')}\n"
                       f"    Optional:\t{str(bool(v['configMap'].get('optional'))).lower()}\n")
        elif "secret" in v:
            w.write(2, "Type:\tSecret (a volume populated by a Secret)\n"
                       f"    SecretName:\t{v['secret'].get('secretName', '')}\n"
                       f"    Optional:\t{str(bool(v['secret'].get('optional'))).lower()}\n")
        else:
            w.write(1, "<unknown>\n")


def pod_template(w: PrefixWriter, template: dict[str, Any] | None) -> None:
    """kubectl's DescribePodTemplate."""
    w.write(0, "Pod Template:\n")
    if template is None:
        w.write(1, "<unset>")
        return
    meta, spec = template.get("metadata") or {}, template.get("spec") or {}
    labels_multiline(w, "  Labels", meta.get("labels"))
    if meta.get("annotations"):
        annotations_multiline(w, "  Annotations", meta["annotations"])
    if spec.get("serviceAccountName"):
        w.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        containers(w, "Init Containers", spec["initContainers"], None, "  ")
    containers(w, "Containers", spec.get("containers") or [], None, "  ")
    volumes(w, spec.get("volumes") or [], "  ")
    if spec.get("priorityClassName"):
        w.write(1, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    labels_multiline(w, "  Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "  Tolerations", spec.get("tolerations"))


def pod_template_text(template: dict[str, Any] | None) -> str:
    w = PrefixWriter()
    pod_template(w, template)
    return w.text()


def events(w: PrefixWriter, items: list[dict[str, Any]] | None, now: datetime | None = None) -> None:
    """kubectl's DescribeEvents, with the `12m (x3 over 20m)` Age column."""
    if items is None:
        return
    if not items:
        w.write(0, "Events:\t<none>\n")
        return

    def last(e: dict[str, Any]) -> str:
        return e.get("lastTimestamp") or e.get("eventTime") or ""

    ordered = sorted(items, key=lambda e: parse_time(last(e)) or datetime.min.replace(tzinfo=None).astimezone())
    w.write(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
    w.write(1, "----\t------\t----\t----\t-------\n")
    for e in ordered:
        first = age(e.get("eventTime"), now) if e.get("eventTime") else age(e.get("firstTimestamp"), now)
        series = e.get("series")
        if series:
            interval = f"{age(series.get('lastObservedTime'), now)} (x{series.get('count')} over {first})"
        elif (e.get("count") or 0) > 1:
            interval = f"{age(e.get('lastTimestamp'), now)} (x{e['count']} over {first})"
        else:
            interval = first
        source = _g(e, "source", "component") or e.get("reportingComponent", "") or ""
        w.write(1, f"{e.get('type', '')}\t{e.get('reason', '')}\t{interval}\t{source}\t"
                   f"{str(e.get('message', '')).strip()}\n")


def _controller(obj: dict[str, Any]) -> str:
    for ref in _g(obj, "metadata", "ownerReferences", default=[]):
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return ""


def _conditions(w: PrefixWriter, conditions: list[dict[str, Any]]) -> None:
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
        w.write(1, "----\t------\t------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")


def _rs_summary(items: list[dict[str, Any]]) -> str:
    text = ", ".join(f"{_g(rs, 'metadata', 'name')} ({_g(rs, 'status', 'replicas', default=0)}/"
                     f"{_g(rs, 'spec', 'replicas', default=1)} replicas created)" for rs in items)
    return text or "<none>"


def deployment(d: dict[str, Any], old_rs: list[dict[str, Any]] | None, new_rs: dict[str, Any] | None,
               event_list: list[dict[str, Any]] | None, now: datetime | None = None) -> str:
    w = PrefixWriter()
    meta, spec, status = d.get("metadata") or {}, d.get("spec") or {}, d.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{describe_time(meta.get('creationTimestamp'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    w.write(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
               f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
               f"{status.get('unavailableReplicas', 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    if strategy.get("rollingUpdate"):
        ru = strategy["rollingUpdate"]
        w.write(0, f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '25%')} max unavailable, "
                   f"{ru.get('maxSurge', '25%')} max surge\n")
    pod_template(w, spec.get("template"))
    _conditions(w, status.get("conditions") or [])
    if old_rs is not None or new_rs is not None:
        w.write(0, f"OldReplicaSets:\t{_rs_summary(old_rs or [])}\n")
        w.write(0, f"NewReplicaSet:\t{_rs_summary([new_rs] if new_rs else [])}\n")
    events(w, event_list, now)
    return w.tabbed()


def pod_counts(pods: list[dict[str, Any]]) -> tuple[int, int, int, int]:
    counts = {"Running": 0, "Pending": 0, "Succeeded": 0, "Failed": 0}
    for pod in pods:
        phase = _g(pod, "status", "phase", default="Pending")
        if phase in counts:
            counts[phase] += 1
    return counts["Running"], counts["Pending"], counts["Succeeded"], counts["Failed"]


def replicaset(rs: dict[str, Any], pods: list[dict[str, Any]], event_list: list[dict[str, Any]] | None,
               now: datetime | None = None) -> str:
    w = PrefixWriter()
    meta, spec, status = rs.get("metadata") or {}, rs.get("spec") or {}, rs.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    if _controller(rs):
        w.write(0, f"Controlled By:\t{_controller(rs)}\n")
    w.write(0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired\n")
    running, waiting, succeeded, failed = pod_counts(pods)
    w.write(0, "Pods Status:\t")
    w.write(0, f"{running} Running / {waiting} Waiting / {succeeded} Succeeded / {failed} Failed\n")
    pod_template(w, spec.get("template"))
    _conditions(w, status.get("conditions") or [])
    events(w, event_list, now)
    return w.tabbed()


def job(j: dict[str, Any], event_list: list[dict[str, Any]] | None, now: datetime | None = None) -> str:
    w = PrefixWriter()
    meta, spec, status = j.get("metadata") or {}, j.get("spec") or {}, j.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"Selector:\t{format_selector(spec.get('selector'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    if _controller(j):
        w.write(0, f"Controlled By:\t{_controller(j)}\n")
    if spec.get("parallelism") is not None:
        w.write(0, f"Parallelism:\t{spec['parallelism']}\n")
    w.write(0, f"Completions:\t{spec['completions'] if spec.get('completions') is not None else '<unset>'}\n")
    if spec.get("completionMode"):
        w.write(0, f"Completion Mode:\t{spec['completionMode']}\n")
    if spec.get("suspend") is not None:
        w.write(0, f"Suspend:\t{str(spec['suspend']).lower()}\n")
    if spec.get("backoffLimit") is not None:
        w.write(0, f"Backoff Limit:\t{spec['backoffLimit']}\n")
    if spec.get("ttlSecondsAfterFinished") is not None:
        w.write(0, f"TTL Seconds After Finished:\t{spec['ttlSecondsAfterFinished']}\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{describe_time(status['startTime'])}\n")
    if status.get("completionTime"):
        w.write(0, f"Completed At:\t{describe_time(status['completionTime'])}\n")
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    if start and end:
        w.write(0, f"Duration:\t{human_duration((end - start).total_seconds())}\n")
    if spec.get("activeDeadlineSeconds") is not None:
        w.write(0, f"Active Deadline Seconds:\t{spec['activeDeadlineSeconds']}s\n")
    active, succeeded, failed = status.get("active", 0), status.get("succeeded", 0), status.get("failed", 0)
    if status.get("ready") is None:
        w.write(0, f"Pods Statuses:\t{active} Active / {succeeded} Succeeded / {failed} Failed\n")
    else:
        w.write(0, f"Pods Statuses:\t{active} Active ({status['ready']} Ready) / {succeeded} Succeeded / "
                   f"{failed} Failed\n")
    pod_template(w, spec.get("template"))
    events(w, event_list, now)
    return w.tabbed()


def qos_class(pod: dict[str, Any]) -> str:
    status_qos = _g(pod, "status", "qosClass")
    if status_qos:
        return str(status_qos)
    requests_seen = limits_seen = False
    guaranteed = True
    for c in _g(pod, "spec", "containers", default=[]):
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        requests_seen |= bool(req)
        limits_seen |= bool(lim)
        for name in ("cpu", "memory"):
            if name not in lim or (name in req and req[name] != lim[name]):
                guaranteed = False
    if not requests_seen and not limits_seen:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod(p: dict[str, Any], event_list: list[dict[str, Any]] | None, now: datetime | None = None) -> str:
    w = PrefixWriter()
    meta, spec, status = p.get("metadata") or {}, p.get("spec") or {}, p.get("status") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    if spec.get("serviceAccountName"):
        w.write(0, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("nodeName"):
        w.write(0, f"Node:\t{spec['nodeName']}/{status.get('hostIP', '')}\n")
    else:
        w.write(0, "Node:\t<none>\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{describe_time(status['startTime'])}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    phase = status.get("phase", "")
    if meta.get("deletionTimestamp") and phase not in ("Failed", "Succeeded"):
        w.write(0, f"Status:\tTerminating (lasts {age(meta['deletionTimestamp'], now)})\n")
        w.write(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{phase}\n")
    if status.get("reason"):
        w.write(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        w.write(0, f"Message:\t{status['message']}\n")
    w.write(0, f"IP:\t{status.get('podIP', '')}\n")
    ips = status.get("podIPs") or []
    if not ips:
        w.write(0, "IPs:\t<none>\n")
    else:
        w.write(0, "IPs:\n")
        for ip in ips:
            w.write(1, f"IP:\t{ip.get('ip', '')}\n")
    if _controller(p):
        w.write(0, f"Controlled By:\t{_controller(p)}\n")
    if status.get("nominatedNodeName"):
        w.write(0, f"NominatedNodeName:\t{status['nominatedNodeName']}\n")
    if spec.get("initContainers"):
        containers(w, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"), "")
    containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses"), "")
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \n")
    volumes(w, spec.get("volumes") or [], "")
    w.write(0, f"QoS Class:\t{qos_class(p)}\n")
    labels_multiline(w, "Node-Selectors", spec.get("nodeSelector"))
    tolerations_multiline(w, "Tolerations", spec.get("tolerations"))
    events(w, event_list, now)
    return w.tabbed()


def _endpoint_slices_text(slices: list[dict[str, Any]], port_name: str) -> str:
    """describe.go formatEndpointSlices: ready addresses (unset counts as ready) with the
    port of this name, the first three shown; a slice without ports lists bare addresses."""
    if not slices:
        return "<none>"
    shown: list[str] = []
    more, count, limit = False, 0, 3
    for slice_ in slices:
        ports = slice_.get("ports") or []
        pairs = [(endpoint, None) for endpoint in slice_.get("endpoints") or []] if not ports else \
            [(endpoint, port) for port in ports if (port.get("name") or "") == (port_name or "")
             for endpoint in slice_.get("endpoints") or []]
        for endpoint, port in pairs:
            if len(shown) == limit:
                more = True
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            if not more:
                address = (endpoint.get("addresses") or [""])[0]
                shown.append(address if port is None else _join_host_port(address, port.get("port")))
            count += 1
    text = ",".join(shown)
    return f"{text} + {count - limit} more..." if more else text


def _join_host_port(host: str, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def service(s: dict[str, Any], endpoint_slices: list[dict[str, Any]], event_list: list[dict[str, Any]] | None,
            now: datetime | None = None) -> str:
    w = PrefixWriter()
    meta, spec = s.get("metadata") or {}, s.get("spec") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Selector:\t{format_labels(spec.get('selector'))}\n")
    w.write(0, f"Type:\t{spec.get('type', 'ClusterIP')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    w.write(0, f"IP Families:\t{','.join(spec.get('ipFamilies') or []) or '<none>'}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    w.write(0, f"IPs:\t{','.join(spec.get('clusterIPs') or []) or '<none>'}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        protocol = port.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{port.get('port')}/{protocol}\n")
        w.write(0, f"TargetPort:\t{port.get('targetPort', port.get('port'))}/{protocol}\n")
        if port.get("nodePort"):
            w.write(0, f"NodePort:\t{name}\t{port['nodePort']}/{protocol}\n")
        w.write(0, f"Endpoints:\t{_endpoint_slices_text(endpoint_slices, port.get('name', ''))}\n")
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', 'None')}\n")
    if spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    events(w, event_list, now)
    return w.tabbed()


def endpoints(ep: dict[str, Any], event_list: list[dict[str, Any]] | None, now: datetime | None = None) -> str:
    """kubectl's EndpointsDescriber: one block per subset, addresses joined, ports as a table."""
    w = PrefixWriter()
    meta = ep.get("metadata") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, "Subsets:\n")
    for subset in ep.get("subsets") or []:
        for title, key in (("Addresses", "addresses"), ("NotReadyAddresses", "notReadyAddresses")):
            ips = ",".join(a.get("ip", "") for a in subset.get(key) or [])
            w.write(1, f"{title}:\t{ips or '<none>'}\n")
        if subset.get("ports"):
            w.write(1, "Ports:\n")
            w.write(2, "Name\tPort\tProtocol\n")
            w.write(2, "----\t----\t--------\n")
            for port in subset["ports"]:
                w.write(2, f"{port.get('name') or '<unset>'}\t{port.get('port')}\t{port.get('protocol', 'TCP')}\n")
        w.write(0, "\n")
    events(w, event_list, now)
    return w.tabbed()


def endpoint_slice(eps: dict[str, Any], event_list: list[dict[str, Any]] | None,
                   now: datetime | None = None) -> str:
    """kubectl's EndpointSliceDescriber (discovery/v1): ports as a table, one block per endpoint."""
    w = PrefixWriter()
    meta = eps.get("metadata") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"AddressType:\t{eps.get('addressType', '')}\n")
    if not eps.get("ports"):
        w.write(0, "Ports: <unset>\n")
    else:
        w.write(0, "Ports:\n")
        w.write(1, "Name\tPort\tProtocol\n")
        w.write(1, "----\t----\t--------\n")
        for port in eps["ports"]:
            number = "<unset>" if port.get("port") is None else str(port["port"])
            w.write(1, f"{port.get('name') or '<unset>'}\t{number}\t{port.get('protocol', 'TCP')}\n")
    if not eps.get("endpoints"):
        w.write(0, "Endpoints: <none>\n")
    else:
        w.write(0, "Endpoints:\n")
        for endpoint in eps["endpoints"]:
            w.write(1, f"- Addresses:\t{', '.join(endpoint.get('addresses') or []) or '<none>'}\n")
            w.write(2, "Conditions:\n")
            ready = (endpoint.get("conditions") or {}).get("ready")
            w.write(3, f"Ready:\t{'<unset>' if ready is None else str(bool(ready)).lower()}\n")
            w.write(2, f"Hostname:\t{_unset(endpoint.get('hostname'))}\n")
            ref = endpoint.get("targetRef")
            if ref is not None:
                w.write(2, f"TargetRef:\t{ref.get('kind', '')}/{ref.get('name', '')}\n")
            w.write(2, f"NodeName:\t{_unset(endpoint.get('nodeName'))}\n")
            w.write(2, f"Zone:\t{_unset(endpoint.get('zone'))}\n")
    events(w, event_list, now)
    return w.tabbed()


def _unset(value: Any) -> str:
    return "<unset>" if value is None else str(value)


def _sum_requests(pods: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    requests: dict[str, float] = {}
    limits: dict[str, float] = {}
    for p in pods:
        for c in _g(p, "spec", "containers", default=[]):
            res = c.get("resources") or {}
            for name, value in (res.get("requests") or {}).items():
                requests[name] = requests.get(name, 0.0) + parse_quantity(value)
            for name, value in (res.get("limits") or {}).items():
                limits[name] = limits.get(name, 0.0) + parse_quantity(value)
    return requests, limits


def _fraction(used: float, total: float) -> int:
    return int(used / total * 100) if total else 0


def node(n: dict[str, Any], pods: list[dict[str, Any]], event_list: list[dict[str, Any]] | None,
         lease: dict[str, Any] | None = None, now: datetime | None = None) -> str:
    w = PrefixWriter()
    meta, spec, status = n.get("metadata") or {}, n.get("spec") or {}, n.get("status") or {}
    labels = meta.get("labels") or {}
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    w.write(0, f"Name:\t{meta.get('name')}\n")
    w.write(0, f"Roles:\t{','.join(roles) or '<none>'}\n")
    labels_multiline(w, "Labels", labels)
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{describe_time(meta.get('creationTimestamp'))}\n")
    taints = spec.get("taints") or []
    if taints:
        w.write(0, "Taints:\t")
        for i, t in enumerate(taints):
            if i:
                w.write(0, "\t")
            value = f"={t['value']}" if t.get("value") else ""
            w.write(0, f"{t.get('key')}{value}:{t.get('effect')}\n")
    else:
        w.write(0, "Taints:\t<none>\n")
    w.write(0, f"Unschedulable:\t{str(bool(spec.get('unschedulable'))).lower()}\n")
    if lease is not None:
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{_g(lease, 'spec', 'holderIdentity', default='<unset>')}\n")
        w.write(1, f"AcquireTime:\t{describe_time(_g(lease, 'spec', 'acquireTime')) if _g(lease, 'spec', 'acquireTime') else '<unset>'}\n")
        w.write(1, f"RenewTime:\t{describe_time(_g(lease, 'spec', 'renewTime')) if _g(lease, 'spec', 'renewTime') else '<unset>'}\n")
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \t{describe_time(c.get('lastHeartbeatTime'))} \t"
                       f"{describe_time(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t"
                       f"{c.get('message', '')}\n")
    addresses = status.get("addresses") or []
    w.write(0, "Addresses:\n")
    for a in addresses:
        w.write(1, f"{a.get('type')}:\t{a.get('address')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        values = status.get(key) or {}
        if values:
            w.write(0, f"{title}:\n")
            for name in sorted(values):
                w.write(1, f"{name}:\t{values[name]}\n")
    info = status.get("nodeInfo") or {}
    if info:
        w.write(0, "System Info:\n")
        for title, key in (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
                           ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"),
                           ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                           ("Container Runtime Version", "containerRuntimeVersion"),
                           ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion")):
            w.write(1, f"{title}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
        w.write(0, f"PodCIDRs:\t{','.join(spec.get('podCIDRs') or [spec['podCIDR']])}\n")
    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    allocatable = {k: parse_quantity(v) for k, v in (status.get("allocatable") or {}).items()}
    w.write(1, "Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t------------\t----------\t---------------\t-------------\t---\n")
    for p in pods:
        req, lim = _sum_requests([p])
        cells = []
        for name, values in (("cpu", req), ("cpu", lim), ("memory", req), ("memory", lim)):
            used = values.get(name, 0.0)
            cells.append(f"{format_quantity(used, name)} ({_fraction(used, allocatable.get(name, 0.0))}%)")
        w.write(1, f"{_g(p, 'metadata', 'namespace')}\t{_g(p, 'metadata', 'name')}\t" + "\t".join(cells) +
                f"\t{age(_g(p, 'metadata', 'creationTimestamp'), now)}\n")
    req, lim = _sum_requests(pods)
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    for name in ("cpu", "memory", "ephemeral-storage"):
        r, li = req.get(name, 0.0), lim.get(name, 0.0)
        w.write(1, f"{name}\t{format_quantity(r, name)} ({_fraction(r, allocatable.get(name, 0.0))}%)\t"
                   f"{format_quantity(li, name)} ({_fraction(li, allocatable.get(name, 0.0))}%)\n")
    events(w, event_list, now)
    return w.tabbed()


def namespace(ns: dict[str, Any]) -> str:
    """kubectl's namespace describer (kube-py serves no ResourceQuota/LimitRange, so those parts are absent)."""
    w = PrefixWriter()
    meta = ns.get("metadata") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Status:\t{_g(ns, 'status', 'phase', default='')}\n")
    return w.tabbed()


def generic(obj: dict[str, Any], event_list: list[dict[str, Any]] | None, now: datetime | None = None) -> str:
    """For kinds without a dedicated describer: metadata plus the rest as indented fields."""
    w = PrefixWriter()
    meta = obj.get("metadata") or {}
    w.write(0, f"Name:\t{meta.get('name')}\n")
    if meta.get("namespace"):
        w.write(0, f"Namespace:\t{meta['namespace']}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"API Version:\t{obj.get('apiVersion', '')}\n")
    w.write(0, f"Kind:\t{obj.get('kind', '')}\n")
    _generic_fields(w, {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}, 0)
    events(w, event_list, now)
    return w.tabbed()


def _generic_fields(w: PrefixWriter, value: dict[str, Any], level: int) -> None:
    for key in sorted(value):
        item = value[key]
        title = key[:1].upper() + key[1:]
        if isinstance(item, dict):
            w.write(level, f"{title}:\n")
            _generic_fields(w, item, level + 1)
        elif isinstance(item, list):
            w.write(level, f"{title}:\n")
            for element in item:
                if isinstance(element, dict):
                    _generic_fields(w, element, level + 1)
                else:
                    w.write(level + 1, f"{element}\n")
        else:
            w.write(level, f"{title}:\t{item}\n")


DESCRIBERS: dict[str, Callable[..., str]] = {}
