"""The kubelet against a real API server: env vars and volumes that reference ConfigMaps,
Secrets or keys that do not exist keep the container from starting, with Kubernetes'
reasons, messages and (aggregated, not spammed) events; once the objects exist the values
come through. Unsupported volume types are a FailedMount, not a silent empty directory.
`args` alone replace the image's CMD.

Until the API server serves ConfigMaps and Secrets, a pass-through proxy in front of it
answers GETs for the ones a test "creates" (everything else goes to the real server,
watches included); a test first tries the real API and uses the stand-in only on 404.
"""

from __future__ import annotations

import asyncio
import base64
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web

from apimachinery.errors import StatusError
from kubeclient.rest import ApiClient
from kubelet import podworker
from kubelet.kubelet import Kubelet
from kubelet.runtime.process import ProcessRuntime
from tests.fixtures.apiserver import ApiServerProcess, running_api_server
from tests.fixtures.wait import eventually

Obj = dict[str, Any]
OBJECT_PATH = re.compile(r"/api/v1/namespaces/([^/]+)/(configmaps|secrets)/([^/]+)")
HOP_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


class ObjectStandIn:
    """A proxy to the real API server that also answers GET for ConfigMaps/Secrets it holds."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)  # open watches end at once
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        match = OBJECT_PATH.fullmatch(request.path)
        if request.method == "GET" and match:
            namespace, plural, name = match.groups()
            found = self.objects.get((plural, namespace, name))
            if found is not None:
                return web.Response(body=orjson.dumps(found), content_type="application/json")
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        async with self._session.request(request.method, self.upstream + request.path_qs, headers=headers,
                                         data=await request.read()) as upstream:
            response = web.StreamResponse(status=upstream.status,
                                          headers={"Content-Type": upstream.headers.get("Content-Type", "")})
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServerProcess]:
    yield from running_api_server(tmp_path_factory.mktemp("kubelet-refs-api"))


@pytest.fixture
async def client(api_server: ApiServerProcess) -> AsyncIterator[ApiClient]:
    async with ApiClient(api_server.url) as api:
        yield api


@pytest.fixture
async def stand_in(api_server: ApiServerProcess) -> AsyncIterator[ObjectStandIn]:
    proxy = ObjectStandIn(api_server.url)
    await proxy.start()
    yield proxy
    await proxy.stop()


class Node:
    def __init__(self, client: ApiClient, name: str, namespace: str, runtime: ProcessRuntime, kubelet: Kubelet,
                 stand_in: ObjectStandIn) -> None:
        self.client, self.name, self.namespace = client, name, namespace
        self.runtime, self.kubelet, self.stand_in = runtime, kubelet, stand_in

    async def create_object(self, kind: str, name: str, **fields: Any) -> None:
        """Create a ConfigMap/Secret on the real API server, or in the stand-in while it lacks them."""
        plural = {"ConfigMap": "configmaps", "Secret": "secrets"}[kind]
        body = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": self.namespace}, **fields}
        try:
            await self.client.request("POST", f"/api/v1/namespaces/{self.namespace}/{plural}", body=body)
        except StatusError as exc:
            if exc.code != 404:
                raise
            self.stand_in.objects[(plural, self.namespace, name)] = body

    async def run_pod(self, name: str, **spec: Any) -> None:
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                "spec": {"nodeName": self.name, "terminationGracePeriodSeconds": 0, **spec}}
        await self.client.create("pods", body, self.namespace)

    async def pod(self, name: str) -> Obj:
        return await self.client.get("pods", name, self.namespace)

    async def waiting(self, name: str) -> tuple[str, str]:
        status = (await self.pod(name)).get("status") or {}
        states = [s.get("state", {}) for s in status.get("containerStatuses") or []]
        waiting = states[0].get("waiting", {}) if states else {}
        return waiting.get("reason", ""), waiting.get("message", "")

    async def events(self, name: str, reason: str) -> list[Obj]:
        items = (await self.client.list("events", self.namespace))["items"]
        return [e for e in items if e["involvedObject"].get("name") == name and e["reason"] == reason]

    async def logs(self, name: str) -> bytes:
        statuses = ((await self.pod(name)).get("status") or {}).get("containerStatuses") or []
        if not statuses or not statuses[0].get("containerID"):
            return b""
        return b"".join([c async for c in self.runtime.logs(statuses[0]["containerID"])])


@pytest.fixture
async def node(client: ApiClient, stand_in: ObjectStandIn, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Node]:
    monkeypatch.setattr(podworker, "CONFIG_ERROR_RETRY", 2.0)  # Kubernetes' 10 s, shortened for the test
    tag = uuid.uuid4().hex[:6]
    namespace, name = f"refs-{tag}", f"refs-node-{tag}"
    await client.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    runtime = ProcessRuntime(tmp_path / "containers")
    stop = asyncio.Event()
    async with ApiClient(stand_in.url) as kubelet_client:
        kubelet = Kubelet(kubelet_client, name, runtime, data_dir=tmp_path / "kubelet")
        task = asyncio.create_task(kubelet.run(stop))
        try:
            yield Node(client, name, namespace, runtime, kubelet, stand_in)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 60)
            for _uid, _name, status in await runtime.list_containers():
                await runtime.remove_container(status.id)
            await client.delete("nodes", name)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


APP = {"name": "app", "image": "busybox:1.36", "command": ["sh", "-c", "echo mode=$MODE pw=$PW; sleep 3600"]}


async def test_missing_configmap_is_create_container_config_error_until_it_exists(node: Node) -> None:
    container = {**APP, "env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
                                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw"}}}]}
    await node.run_pod("env", containers=[container])

    async def config_error(expected: str) -> bool:
        return await node.waiting("env") == ("CreateContainerConfigError", expected)

    await eventually(lambda: config_error('configmap "cfg" not found'), 30, "CreateContainerConfigError")
    pod = await node.pod("env")
    assert pod["status"]["phase"] == "Pending"

    async def failed_event_aggregated() -> bool:
        events = await node.events("env", "Failed")
        return (len(events) == 1 and events[0]["count"] >= 2
                and events[0]["message"] == 'Error: configmap "cfg" not found')

    await eventually(failed_event_aggregated, 30, "one Failed event, counted, for the retries")
    event = (await node.events("env", "Failed"))[0]
    assert event["type"] == "Warning" and event["source"]["component"] == "kubelet"
    assert event["involvedObject"]["fieldPath"] == "spec.containers{app}"

    await node.create_object("ConfigMap", "cfg", data={"other": "x"})
    await eventually(lambda: config_error(f"couldn't find key mode in ConfigMap {node.namespace}/cfg"), 30,
                     "the missing key reported")
    await node.create_object("ConfigMap", "cfg", data={"mode": "fast"})
    await eventually(lambda: config_error('secret "creds" not found'), 30, "the missing secret reported")
    await node.create_object("Secret", "creds", data={"nothing": b64("x")})
    await eventually(lambda: config_error(f"couldn't find key pw in Secret {node.namespace}/creds"), 30,
                     "the missing secret key reported")
    await node.create_object("Secret", "creds", data={"pw": b64("s3cret")})

    async def values_came_through() -> bool:
        return b"mode=fast pw=s3cret\n" in await node.logs("env")

    await eventually(values_came_through, 30, "the container started with the values")
    assert (await node.pod("env"))["status"]["phase"] == "Running"


async def test_optional_references_are_skipped_and_args_replace_cmd(node: Node) -> None:
    container = {"name": "app", "image": "busybox:1.36", "args": ["/bin/sh", "-c", "echo [$MODE] done"],
                 "envFrom": [{"configMapRef": {"name": "absent", "optional": True}}],
                 "env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "absent", "key": "k",
                                                                            "optional": True}}}]}
    await node.run_pod("opt", containers=[container], restartPolicy="Never")

    async def succeeded() -> bool:
        return ((await node.pod("opt")).get("status") or {}).get("phase") == "Succeeded"

    await eventually(succeeded, 30, "the pod ran to completion")
    assert await node.logs("opt") == b"[] done\n"  # `sh /bin/sh -c ...` would have printed nothing useful


async def test_unsupported_and_missing_volumes_are_failed_mounts(node: Node) -> None:
    await node.run_pod("nfs", containers=[{**APP, "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
                       volumes=[{"name": "data", "nfs": {"server": "nfs.example", "path": "/export"}}])
    await node.run_pod("cm", containers=[{**APP, "volumeMounts": [{"name": "conf", "mountPath": "/conf"}]}],
                       volumes=[{"name": "conf", "configMap": {"name": "web-conf"}}])

    async def failed_mount(pod: str, message: str) -> bool:
        return any(e["message"] == message and e["type"] == "Warning" for e in await node.events(pod, "FailedMount"))

    await eventually(lambda: failed_mount(
        "nfs", 'MountVolume.SetUp failed for volume "data" : volume type "nfs" is not supported by this kubelet'),
        30, "FailedMount for the nfs volume")
    await eventually(lambda: failed_mount(
        "cm", 'MountVolume.SetUp failed for volume "conf" : configmap "web-conf" not found'),
        30, "FailedMount for the missing configmap")
    for name in ("nfs", "cm"):
        pod = await node.pod(name)
        assert pod["status"]["phase"] == "Pending"
        assert await node.waiting(name) == ("ContainerCreating", "")
        ready_to_start = next(c for c in pod["status"]["conditions"] if c["type"] == "PodReadyToStartContainers")
        assert ready_to_start["status"] == "False"

    async def retried_without_spam() -> bool:
        events = await node.events("cm", "FailedMount")
        return len(events) == 1 and events[0]["count"] >= 2

    await eventually(retried_without_spam, 30, "the retries counted on one event")

    await node.create_object("ConfigMap", "web-conf", data={"index.html": "hello"})

    async def running() -> bool:
        return ((await node.pod("cm")).get("status") or {}).get("phase") == "Running"

    await eventually(running, 60, "the pod runs once its configmap exists")
    uid = (await node.pod("cm"))["metadata"]["uid"]
    assert (node.kubelet.data_dir / "pods" / uid / "volumes" / "conf" / "index.html").read_text() == "hello"
    assert (await node.pod("nfs"))["status"]["phase"] == "Pending"
