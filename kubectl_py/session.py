"""Everything one kubectl-py invocation shares: the API client, the namespace, the resolver
and the three standard streams.

Commands receive a `Session` instead of reaching for globals, so tests run commands in-process
with their own streams and servers, and two invocations never see each other's state.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from kubeclient.kubeconfig import ClusterConfig, KubeconfigError, load_config
from kubeclient.rest import ApiClient
from kubectl_py.discovery import Resolver
from kubectl_py.errors import CliError

USER_AGENT = "kubectl-py/v0.1.0 (kube-py)"


@dataclass
class Streams:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    inp: TextIO = field(default_factory=lambda: sys.stdin)


@dataclass
class GlobalOptions:
    server: str = ""
    kubeconfig: str = ""
    context: str = ""
    namespace: str = ""
    all_namespaces: bool = False
    request_timeout: float = 0.0


@dataclass
class Session:
    api: ApiClient
    config: ClusterConfig
    namespace: str
    explicit_namespace: bool
    all_namespaces: bool
    streams: Streams
    resolver: Resolver

    @property
    def out(self) -> TextIO:
        return self.streams.out

    @property
    def err(self) -> TextIO:
        return self.streams.err

    def print(self, text: str = "") -> None:
        self.streams.out.write(text + "\n")
        self.streams.out.flush()

    def warn(self, text: str) -> None:
        self.streams.err.write(text + "\n")
        self.streams.err.flush()

    async def close(self) -> None:
        await self.api.close()


def parse_timeout(value: str) -> float:
    """`--request-timeout`: `0` (none), `30`, `30s`, `1m`, `500ms`."""
    text = (value or "0").strip()
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    try:
        for suffix in ("ms", "s", "m", "h"):
            if text.endswith(suffix):
                return float(text[: -len(suffix)]) * units[suffix]
        return float(text)
    except ValueError:
        raise CliError("Invalid timeout value. Timeout must be a single integer in seconds, or an integer "
                       "followed by a corresponding time unit (e.g. 1s | 2m | 3h)") from None


def open_session(options: GlobalOptions, streams: Streams) -> Session:
    try:
        config = load_config(options.kubeconfig or None, options.context, options.server)
    except KubeconfigError as exc:
        raise CliError(str(exc), raw=str(exc).startswith("The connection")) from None
    timeout = options.request_timeout or 300.0
    api = ApiClient.from_config(config, timeout=timeout, user_agent=USER_AGENT)
    namespace = options.namespace or config.namespace or "default"
    return Session(api=api, config=config, namespace=namespace, explicit_namespace=bool(options.namespace),
                   all_namespaces=options.all_namespaces, streams=streams, resolver=Resolver(api))
