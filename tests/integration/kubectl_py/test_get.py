"""`get` output compared byte for byte with the stock kubectl's, for the same objects."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.kubectl_py.conftest import KubectlPy, StockKubectl, deployment_yaml, service_yaml

GOLDEN_COMMANDS = [
    ("get", "deploy"),
    ("get", "deploy", "-o", "wide"),
    ("get", "deploy,svc"),
    ("get", "all"),
    ("get", "svc", "-o", "wide"),
    ("get", "deploy", "--show-labels"),
    ("get", "deploy", "-L", "tier"),
    ("get", "deploy", "-l", "tier=frontend"),
    ("get", "deploy", "web"),
    ("get", "deploy/web", "svc/web"),
    ("get", "deploy", "--sort-by=.metadata.name"),
    ("get", "deploy", "-o", "name"),
    ("get", "deploy", "web", "-o", "yaml"),
    ("get", "deploy", "-o", "json"),
    ("get", "deploy", "-o", "jsonpath={.items[*].metadata.name}"),
    ("get", "deploy", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.spec.replicas}{\"\\n\"}{end}"),
    ("get", "deploy", "-o", "custom-columns=NAME:.metadata.name,IMAGES:.spec.template.spec.containers[*].image"),
    ("get", "ns", "default"),
    ("get", "pods"),
    ("get", "deploy", "nope"),
    ("get", "deploy", "web", "nope"),
]


AGE = re.compile(r"(?<=\s)\d+(s|m\d*s?|h\d*m?)(?=\s|$)", re.MULTILINE)


def masked(text: str) -> str:
    """Ages tick between two runs a few milliseconds apart; everything else must be identical."""
    return AGE.sub("<age>", text)


@pytest.fixture
async def objects(kp: KubectlPy, tmp_path: Path) -> None:
    manifest = tmp_path / "objects.yaml"
    manifest.write_text("---\n".join([deployment_yaml("web", extra_label="frontend"),
                                      deployment_yaml("api", image="busybox:1.36", replicas=1),
                                      service_yaml("web")]))
    await kp.ok("apply", "-f", str(manifest))


async def test_get_matches_the_stock_kubectl(kp: KubectlPy, kubectl: StockKubectl, objects: None) -> None:
    for args in GOLDEN_COMMANDS:
        ours = await kp(*args)
        theirs = kubectl(*args)
        assert (ours.code, masked(ours.out), ours.err) == (theirs.code, masked(theirs.out), theirs.err), \
            " ".join(args)


async def test_get_table_layout(kp: KubectlPy, objects: None) -> None:
    out = await kp.ok("get", "deploy,svc")
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert lines[1].startswith("deployment.apps/api   ")
    assert lines[3] == ""
    assert lines[4].split()[:3] == ["NAME", "TYPE", "CLUSTER-IP"]
    assert lines[5].startswith("service/web   ClusterIP")


async def test_no_resources_found_goes_to_stderr(kp: KubectlPy) -> None:
    result = await kp("get", "pods")
    assert (result.code, result.out, result.err) == (0, "", f"No resources found in {kp.namespace} namespace.\n")
    result = await kp("get", "pods", "-A", "-l", "app=nothing-matches")
    assert (result.code, result.err) == (0, "No resources found\n")


async def test_all_namespaces_adds_the_namespace_column(kp: KubectlPy, objects: None) -> None:
    out = await kp.ok("get", "deploy", "-A", "-l", "tier=frontend")
    header, *rows = out.splitlines()
    assert header.split()[:2] == ["NAMESPACE", "NAME"]
    assert [kp.namespace, "web"] in [row.split()[:2] for row in rows]


async def test_watch_prints_the_object_then_each_change(kp: KubectlPy, objects: None) -> None:
    import asyncio
    import io

    from kubectl_py.main import run
    from kubectl_py.session import Streams

    out = io.StringIO()
    argv = ["--kubeconfig", str(kp.server.kubeconfig), "-n", kp.namespace, "get", "deploy", "api", "-w"]
    task = asyncio.create_task(run(argv, Streams(out=out, err=io.StringIO())))
    await asyncio.sleep(0.5)
    await kp.ok("scale", "deploy", "api", "--replicas=3")
    for _ in range(50):
        if "0/3" in out.getvalue():
            break
        await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert lines[1].split()[:2] == ["api", "0/1"]
    assert lines[-1].split()[:2] == ["api", "0/3"]
