"""Env vars and volumes from ConfigMaps, Secrets and the downward API, with Kubernetes 1.32's
messages for what is missing (kubelet/envvars.py, kubelet/volumes.py, kubelet/downward.py),
against an in-memory object source; the API-backed source is tested in integration."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from kubelet.downward import DownwardError, format_map, resource_field_value
from kubelet.envvars import EnvError, make_environment
from kubelet.objects import ObjectError
from kubelet.volumes import VolumeContext, set_up_volumes, volume_kind

Obj = dict[str, Any]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class Objects:
    def __init__(self, **objects: Obj) -> None:
        self.objects = objects  # "configmap/name" → object
        self.calls: list[str] = []

    async def __call__(self, kind: str, namespace: str, name: str) -> Obj:
        self.calls.append(f"{kind}/{name}")
        if f"{kind}/{name}" not in self.objects:
            raise ObjectError(f'{kind} "{name}" not found', not_found=True)
        return self.objects[f"{kind}/{name}"]


STORE = Objects(**{"configmap/cfg": {"data": {"mode": "fast", "level": "3"}, "binaryData": {"bin": b64("\x00\x01")}},
                   "secret/creds": {"data": {"password": b64("s3cret"), "user": b64("admin")}}})
POD: Obj = {"metadata": {"name": "web", "namespace": "team", "uid": "u-1", "labels": {"b": "2", "a": "1"}},
            "spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "64Mi"}}}]}}


async def env_of(container: Obj, store: Objects = STORE) -> dict[str, str]:
    return await make_environment(POD, container, store, lambda path: {"metadata.name": "web"}.get(path),
                                  {"cpu": "2", "memory": "1Gi"})


async def test_values_come_from_configmaps_and_secrets() -> None:
    env = await env_of({"envFrom": [{"configMapRef": {"name": "cfg"}, "prefix": "CFG_"}, {"secretRef": {"name": "creds"}}],
                        "env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
                                {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
                                {"name": "URL", "value": "$(user):$(PW)@$(NOPE)"},
                                {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                                {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                                   "divisor": "1Mi"}}},
                                {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu",
                                                                                   "divisor": "1m"}}},
                                {"name": "EMPTY"}]})
    assert env == {"CFG_mode": "fast", "CFG_level": "3", "password": "s3cret", "user": "admin", "MODE": "fast",
                   "PW": "s3cret", "URL": "admin:s3cret@$(NOPE)", "POD": "web",
                   "MEM": "1024", "CPU": "2000",  # no limits set: the node's allocatable (1Gi, 2 CPUs)
                   "EMPTY": ""}


@pytest.mark.parametrize(("container", "message"), [
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "k"}}}]}, 'configmap "x" not found'),
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]},
     "couldn't find key k in ConfigMap team/cfg"),
    ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}, 'secret "s" not found'),
    ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k"}}}]},
     "couldn't find key k in Secret team/creds"),
    ({"envFrom": [{"configMapRef": {"name": "x"}}]}, 'configmap "x" not found'),
    ({"envFrom": [{"secretRef": {"name": "s"}}]}, 'secret "s" not found'),
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "k", "optional": False}}}]},
     'configmap "x" not found'),
])
async def test_missing_references_are_errors(container: Obj, message: str) -> None:
    with pytest.raises(EnvError) as info:
        await env_of(container)
    assert str(info.value) == message


async def test_optional_references_are_skipped_silently() -> None:
    env = await env_of({"envFrom": [{"configMapRef": {"name": "x", "optional": True}},
                                    {"secretRef": {"name": "s", "optional": True}}],
                        "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "x", "key": "k",
                                                                                "optional": True}}},
                                {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k",
                                                                                "optional": True}}},
                                {"name": "C", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k",
                                                                             "optional": True}}}]})
    assert env == {}


async def test_each_object_is_read_once_per_resolution() -> None:
    store = Objects(**STORE.objects)
    await env_of({"envFrom": [{"configMapRef": {"name": "cfg"}}],
                  "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "mode"}}},
                          {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "level"}}}]}, store)
    assert store.calls == ["configmap/cfg"]


def test_downward_helpers() -> None:
    assert format_map({"b": "2", "a": 'say "hi"'}) == 'a="say \\"hi\\""\nb="2"'
    container = {"resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "1500m"}}}
    assert resource_field_value({"resource": "requests.cpu"}, container, {}) == "1"  # rounded up
    assert resource_field_value({"resource": "limits.cpu", "divisor": "1m"}, container, {}) == "1500"
    assert resource_field_value({"resource": "limits.memory"}, container, {"memory": "1Ki"}) == "1024"
    with pytest.raises(DownwardError, match="unsupported container resource : bogus"):
        resource_field_value({"resource": "bogus"}, container, {})


def pod_with(*volumes: Obj) -> Obj:
    return {**POD, "spec": {**POD["spec"], "volumes": list(volumes)}}


async def mount(tmp_path: Path, *volumes: Obj) -> tuple[dict[str, Any], list[str]]:
    ready, failed = await set_up_volumes(VolumeContext(pod_with(*volumes), STORE, "node-1", "10.0.0.1"), tmp_path)
    return ready, [str(e) for e in failed]


async def test_projected_kinds_write_their_files(tmp_path: Path) -> None:
    ready, failed = await mount(
        tmp_path,
        {"name": "cfg", "configMap": {"name": "cfg", "defaultMode": 0o600}},
        {"name": "one", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": "sub/m.txt", "mode": 0o400}]}},
        {"name": "sec", "secret": {"secretName": "creds"}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                                                   {"path": "mem", "resourceFieldRef": {
                                                       "containerName": "c", "resource": "limits.memory",
                                                       "divisor": "1Mi"}}]}},
        {"name": "all", "projected": {"sources": [{"configMap": {"name": "cfg", "items": [{"key": "level",
                                                                                            "path": "level"}]}},
                                                  {"secret": {"name": "creds", "items": [{"key": "user",
                                                                                          "path": "user"}]}}]}},
        {"name": "maybe", "configMap": {"name": "absent", "optional": True}},
        {"name": "scratch", "emptyDir": {}},
    )
    assert failed == []
    assert sorted(p.name for p in (tmp_path / "cfg").iterdir()) == ["bin", "level", "mode"]
    assert (tmp_path / "cfg" / "bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "cfg" / "mode").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "one" / "sub" / "m.txt").read_text() == "fast"
    assert (tmp_path / "one" / "sub" / "m.txt").stat().st_mode & 0o777 == 0o400
    assert (tmp_path / "sec" / "password").read_text() == "s3cret"
    assert (tmp_path / "info" / "labels").read_text() == 'a="1"\nb="2"'
    assert (tmp_path / "info" / "mem").read_text() == "64"
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["level", "user"]
    assert list((tmp_path / "maybe").iterdir()) == []
    assert {name: v.read_only for name, v in ready.items()} == {
        "cfg": True, "one": True, "sec": True, "info": True, "all": True, "maybe": True, "scratch": False}


@pytest.mark.parametrize(("volume", "message"), [
    ({"name": "v", "configMap": {"name": "x"}}, 'MountVolume.SetUp failed for volume "v" : configmap "x" not found'),
    ({"name": "v", "secret": {"secretName": "s"}}, 'MountVolume.SetUp failed for volume "v" : secret "s" not found'),
    ({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "nope", "path": "p"}]}},
     'MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: nope'),
    ({"name": "v", "secret": {"secretName": "creds", "items": [{"key": "nope", "path": "p"}]}},
     'MountVolume.SetUp failed for volume "v" : references non-existent secret key: nope'),
    ({"name": "v", "nfs": {"server": "nfs.example", "path": "/export"}},
     'MountVolume.SetUp failed for volume "v" : volume type "nfs" is not supported by this kubelet'),
    ({"name": "v", "persistentVolumeClaim": {"claimName": "data"}},
     'MountVolume.SetUp failed for volume "v" : volume type "persistentVolumeClaim" is not supported by this kubelet'),
    ({"name": "v", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}},
                                             {"configMap": {"name": "x"}}]}},
     'MountVolume.SetUp failed for volume "v" : [projected source serviceAccountToken is not supported by this '
     'kubelet, configmap "x" not found]'),
    ({"name": "v", "hostPath": {"path": "/nonexistent/kube-py", "type": "Directory"}},
     'MountVolume.SetUp failed for volume "v" : hostPath type check failed: /nonexistent/kube-py is not a directory'),
    ({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "mode", "path": "../escape"}]}},
     "MountVolume.SetUp failed for volume \"v\" : invalid path '../escape': must be relative and may not contain '..'"),
])
async def test_volumes_that_cannot_be_set_up(tmp_path: Path, volume: Obj, message: str) -> None:
    ready, failed = await mount(tmp_path, volume, {"name": "ok", "emptyDir": {}})
    assert failed == [message]
    assert list(ready) == ["ok"]
    assert not (tmp_path.parent / "escape").exists()


def test_volume_kind_defaults_to_empty_dir() -> None:
    assert volume_kind({"name": "v"}) == "emptyDir"
    assert volume_kind({"name": "v", "csi": {"driver": "x"}}) == "csi"
