"""expose, get svc / ep, describe svc / ep: kubectl-py next to the stock kubectl.

Both talk to the same real API server; outputs are compared line for line once ages
(which tick between the two runs) are masked.
"""

from __future__ import annotations

import json
import re

from tests.integration.kubectl_py.conftest import KubectlPy, StockKubectl, deployment_yaml

MANUAL = """apiVersion: v1
kind: Service
metadata: {name: manual}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}, {name: metrics, port: 90, targetPort: 9090}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: manual}
subsets:
- addresses: [{ip: 10.1.0.2}, {ip: 10.1.0.3}, {ip: 10.1.0.4}, {ip: 10.1.0.5}]
  notReadyAddresses: [{ip: 10.1.0.9}]
  ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]
"""


MANUAL_SLICE = """apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: manual-hand, labels: {kubernetes.io/service-name: manual}}
addressType: IPv4
ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]
endpoints:
- addresses: [10.1.0.2]
- addresses: [10.1.0.3]
  conditions: {ready: true}
- addresses: [10.1.0.4]
- addresses: [10.1.0.5]
- addresses: [10.1.0.9]
  conditions: {ready: false}
"""


def no_ages(text: str) -> str:
    return re.sub(r"\b\d+(s|m\d*s?)\b", "AGE", text)


def masked(text: str) -> str:
    """YAML with the server-assigned values blanked."""
    return re.sub(r"(uid|resourceVersion|creationTimestamp|clusterIP|nodePort): .*", r"\1: X",
                  re.sub(r"- 10\.\d+\.\d+\.\d+", "- IP", text))


async def test_expose_deployment_and_get_svc_match_kubectl(kp: KubectlPy, kubectl: StockKubectl) -> None:
    await kp.ok("apply", "-f", "-", input=deployment_yaml("web"))
    assert await kp.ok("expose", "deployment", "web", "--port=80", "--target-port=8080") == "service/web exposed\n"
    stock = kubectl("expose", "deployment", "web", "--name=web-k", "--port=80", "--target-port=8080")
    assert (stock.code, stock.out) == (0, "service/web-k exposed\n")
    assert await kp.ok("expose", "deploy/web", "--name=web-np", "--type=NodePort") == "service/web-np exposed\n"
    ours, theirs = masked(await kp.ok("get", "svc", "web", "-o", "yaml")), masked(kubectl("get", "svc", "web-k",
                                                                                          "-o", "yaml").out)
    assert ours == theirs.replace("web-k", "web")

    table = await kp.ok("get", "svc")
    assert table.splitlines()[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert re.search(r"^web-np +NodePort +10\.\d+\.\d+\.\d+ +<none> +80:3\d{4}/TCP +\d+s$", table, re.M), table
    assert no_ages(table) == no_ages(kubectl("get", "svc").out)
    assert no_ages(await kp.ok("get", "svc", "-o", "wide")) == no_ages(kubectl("get", "svc", "-o", "wide").out)


async def test_expose_client_dry_run_prints_what_kubectl_prints(kp: KubectlPy, kubectl: StockKubectl) -> None:
    await kp.ok("run", "pod1", "--image=nginx", "--port=8080", "-l", "app=p,tier=x")
    await kp.ok("apply", "-f", "-", input=deployment_yaml("web"))
    for args in (["pod", "pod1", "--port=80"],
                 ["deployment", "web", "--type=NodePort", "--protocol=UDP", "--name=u", "--selector=app=web"],
                 ["deployment", "web", "--cluster-ip=None", "--session-affinity=ClientIP", "-l", "a=b"],
                 ["deployment", "web", "--target-port=http"]):
        command = ["expose", *args, "--dry-run=client", "-o", "yaml"]
        ours, theirs = await kp(*command), kubectl(*command)
        assert (ours.code, ours.out) == (theirs.code, theirs.out), args
    assert "creationTimestamp: null" in ours.out and "&id" not in ours.out


async def test_expose_errors_match_kubectl(kp: KubectlPy, kubectl: StockKubectl) -> None:
    await kp.ok("run", "bare", "--image=nginx", "-l", "a=b")
    await kp.ok("label", "pod", "bare", "a-")
    await kp.ok("apply", "-f", "-", input=MANUAL)
    await kp.ok("create", "deployment", "noport", "--image=nginx")
    for args in (["pod", "bare", "--port=80"], ["svc", "manual", "--name=m2"], ["deployment", "noport"],
                 ["pod", "missing", "--port=80"]):
        ours, theirs = await kp("expose", *args), kubectl("expose", *args)
        assert (ours.code, ours.err) == (theirs.code, theirs.err), args
        assert ours.code == 1


async def test_get_ep_and_describe(kp: KubectlPy, kubectl: StockKubectl) -> None:
    await kp.ok("apply", "-f", "-", input=MANUAL)
    eps = await kp.ok("get", "ep")
    assert eps.splitlines()[0].split() == ["NAME", "ENDPOINTS", "AGE"]
    assert "10.1.0.2:8080,10.1.0.2:9090,10.1.0.3:8080 + 5 more..." in eps
    assert no_ages(eps) == no_ages(kubectl("get", "ep").out)
    assert await kp.ok("describe", "ep", "manual") == kubectl("describe", "ep", "manual").out

    # kubectl 1.32 reads the Service's EndpointSlices for its Endpoints lines, as kubectl-py does:
    # none yet (no mirroring controller runs here), then one made by hand.
    assert await kp.ok("describe", "svc", "manual") == kubectl("describe", "svc", "manual").out
    await kp.ok("apply", "-f", "-", input=MANUAL_SLICE)
    described = await kp.ok("describe", "svc", "manual")
    assert described == kubectl("describe", "svc", "manual").out
    lines = [line.split(None, 1) for line in described.splitlines()]
    assert [rest for key, *rest in lines if key == "Endpoints:"] == [
        ["10.1.0.2:8080,10.1.0.3:8080,10.1.0.4:8080 + 1 more..."], ["10.1.0.2:9090,10.1.0.3:9090,10.1.0.4:9090 + 1 more..."]]
    slices = await kp.ok("get", "endpointslices")
    assert no_ages(slices) == no_ages(kubectl("get", "endpointslices").out)
    assert "manual-hand   IPv4          8080,9090   10.1.0.2,10.1.0.3,10.1.0.4 + 2 more..." in slices


async def test_describe_nodeport_and_headless(kp: KubectlPy, kubectl: StockKubectl) -> None:
    await kp.ok("apply", "-f", "-", input=deployment_yaml("web"))
    await kp.ok("expose", "deployment", "web", "--type=NodePort", "--name=np")
    await kp.ok("expose", "deployment", "web", "--cluster-ip=None", "--name=hl")
    described = {}
    for name in ("np", "hl"):
        described[name] = await kp.ok("describe", "svc", name)
        assert described[name] == kubectl("describe", "svc", name).out
    svc = json.loads(await kp.ok("get", "svc", "np", "-o", "json"))
    assert f"NodePort:                 <unset>  {svc['spec']['ports'][0]['nodePort']}/TCP" in described["np"]
    assert "IP:                       None\n" in described["hl"]
