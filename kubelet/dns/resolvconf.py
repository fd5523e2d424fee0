"""The resolv.conf and hosts files the kubelet gives a pod, as Kubernetes' kubelet does.

dnsPolicy ClusterFirst (the default): the cluster nameserver, search
`<ns>.svc.<zone> svc.<zone> <zone>` then the node's own search domains, `options ndots:5`.
Default: the node's resolv.conf. None: only dnsConfig. ClusterFirstWithHostNet: as
ClusterFirst; a hostNetwork pod with plain ClusterFirst falls back to Default. dnsConfig's
nameservers, searches and options are appended (options by name, later wins). Kubernetes'
limits apply: 3 nameservers, 32 search domains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
MAX_NAMESERVERS = 3
MAX_SEARCH = 32


@dataclass
class HostResolv:
    nameservers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> HostResolv:
        parsed = cls()
        for line in text.splitlines():
            parts = line.split("#", 1)[0].split()
            if not parts:
                continue
            if parts[0] == "nameserver" and len(parts) > 1:
                parsed.nameservers.append(parts[1])
            elif parts[0] in ("search", "domain"):
                parsed.searches = parts[1:]
            elif parts[0] == "options":
                parsed.options += parts[1:]
        return parsed


def _merge_options(options: list[str], extra: list[Obj]) -> list[str]:
    merged: dict[str, str] = {}
    for option in options:
        name, _, value = option.partition(":")
        merged[name] = option
    for option in extra:
        name = option.get("name", "")
        if name:
            merged[name] = f"{name}:{option['value']}" if option.get("value") not in (None, "") else name
    return list(merged.values())


def resolv_conf(pod: Obj, cluster_dns: list[str], cluster_domain: str, host: HostResolv) -> str:
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        policy = "Default"
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and not cluster_dns:
        policy = "Default"  # no cluster DNS configured: the kubelet falls back to the node's
    namespace = (pod.get("metadata") or {}).get("namespace", "default")
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet"):
        nameservers = list(cluster_dns)
        searches = [f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain, *host.searches]
        options = ["ndots:5"]
    elif policy == "Default":
        nameservers, searches, options = list(host.nameservers), list(host.searches), list(host.options)
    else:
        nameservers, searches, options = [], [], []
    config = spec.get("dnsConfig") or {}
    nameservers += [n for n in config.get("nameservers") or [] if n not in nameservers]
    searches += [s for s in config.get("searches") or [] if s not in searches]
    options = _merge_options(options, config.get("options") or [])
    lines = []
    if searches:
        lines.append("search " + " ".join(searches[:MAX_SEARCH]))
    lines += [f"nameserver {n}" for n in nameservers[:MAX_NAMESERVERS]]
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines) + "\n"


def hosts_file(pod: Obj, pod_ip: str, cluster_domain: str) -> str:
    """The kubelet-managed /etc/hosts: localhost lines, the pod's own name, hostAliases."""
    spec, meta = pod.get("spec") or {}, pod.get("metadata") or {}
    hostname = spec.get("hostname") or meta.get("name", "")
    lines = ["# Kubernetes-managed hosts file.", "127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback",
             "fe00::0\tip6-localnet", "fe00::0\tip6-mcastprefix", "fe00::1\tip6-allnodes", "fe00::2\tip6-allrouters"]
    if pod_ip:
        subdomain = spec.get("subdomain")
        if subdomain:
            namespace = meta.get("namespace", "default")
            lines.append(f"{pod_ip}\t{hostname}.{subdomain}.{namespace}.svc.{cluster_domain}\t{hostname}")
        else:
            lines.append(f"{pod_ip}\t{hostname}")
    aliases = spec.get("hostAliases") or []
    if aliases:
        lines.append("\n# Entries added by HostAliases.")
        for alias in aliases:
            lines.append(f"{alias.get('ip', '')}\t" + "\t".join(alias.get("hostnames") or []))
    return "\n".join(lines) + "\n"
