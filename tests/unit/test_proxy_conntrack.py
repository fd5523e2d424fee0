"""Which UDP conntrack flows a proxy sync deletes: removed endpoints (by their DNAT target,
on the cluster IP and the node port) and ports that just got their first endpoint."""

from __future__ import annotations

import pytest

from kubelet.proxy.conntrack import deleted_nothing, stale_flows
from kubelet.proxy.rules import Endpoint, ServicePort


def port(*ips: str, protocol: str = "UDP", node_port: int = 0, name: str = "dns") -> ServicePort:
    return ServicePort("ns", "svc", name, protocol, "10.96.0.10", 53, node_port,
                       endpoints=tuple(Endpoint(ip, 5353) for ip in ips))


CASES = [
    pytest.param([port("10.1.0.2", "10.1.0.3")], [port("10.1.0.2", "10.1.0.3")], [], id="unchanged: nothing"),
    pytest.param([port("10.1.0.2", "10.1.0.3")], [port("10.1.0.2")],
                 [("-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.1.0.3")], id="endpoint removed"),
    pytest.param([port("10.1.0.3", node_port=30053)], [port("10.1.0.4", node_port=30053)],
                 [("-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.1.0.3"),
                  ("-p", "udp", "--orig-port-dst", "30053", "--dst-nat", "10.1.0.3")],
                 id="endpoint replaced behind a node port"),
    pytest.param([port("10.1.0.2")], [],
                 [("-p", "udp", "--orig-dst", "10.96.0.10", "--dst-nat", "10.1.0.2")], id="service deleted"),
    pytest.param([port()], [port("10.1.0.2", node_port=30053)],
                 [("-p", "udp", "--orig-dst", "10.96.0.10"), ("-p", "udp", "--orig-port-dst", "30053")],
                 id="first endpoint: every flow to the service"),
    pytest.param([], [port("10.1.0.2")], [("-p", "udp", "--orig-dst", "10.96.0.10")],
                 id="new service (or first sync)"),
    pytest.param([port("10.1.0.2", protocol="TCP")], [port(protocol="TCP")], [], id="TCP is never flushed"),
]


@pytest.mark.parametrize(("previous", "current", "expected"), CASES)
def test_stale_flows(previous: list[ServicePort], current: list[ServicePort], expected: list[tuple[str, ...]]) -> None:
    assert stale_flows(previous, current) == expected


def test_no_match_is_not_an_error() -> None:
    assert deleted_nothing("conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n")
    assert not deleted_nothing("conntrack v1.4.7 (conntrack-tools): Operation not permitted\n")
