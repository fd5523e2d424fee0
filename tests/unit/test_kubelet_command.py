"""Kubernetes' command/args table over the image's ENTRYPOINT/CMD (kubelet/command.py), the
drivers' use of it, and `$(VAR)` expansion (kubelet/expansion.py), table-driven."""

from __future__ import annotations

import pytest

from kubelet.command import container_argv
from kubelet.expansion import expand
from kubelet.runtime.fake import FakeRuntime
from kubelet.runtime.interface import ContainerSpec, SandboxInfo
from kubelet.runtime.process import IMAGE_DEFAULTS, image_name

ENTRYPOINT, CMD = ["/docker-entrypoint.sh"], ["nginx", "-g", "daemon off;"]


@pytest.mark.parametrize(("command", "args", "expected"), [
    ([], [], ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]),       # neither: ENTRYPOINT + CMD
    (["/bin/echo", "hi"], [], ["/bin/echo", "hi"]),                          # command drops CMD
    ([], ["-c", "x"], ["/docker-entrypoint.sh", "-c", "x"]),                 # args replace CMD
    (["/bin/sh"], ["-c", "echo hi"], ["/bin/sh", "-c", "echo hi"]),          # both: command + args
])
def test_command_args_table(command: list[str], args: list[str], expected: list[str]) -> None:
    assert container_argv(command, args, ENTRYPOINT, CMD) == expected


@pytest.mark.parametrize(("command", "args", "expected"), [
    ([], [], ["sh"]),
    ([], ["/bin/sh", "-c", "echo hi"], ["/bin/sh", "-c", "echo hi"]),  # kubectl run x --image=busybox -- /bin/sh -c ...
    (["echo"], ["hi"], ["echo", "hi"]),
    (["echo"], [], ["echo"]),
])
def test_busybox_has_cmd_sh_and_no_entrypoint(command: list[str], args: list[str], expected: list[str]) -> None:
    entrypoint, cmd = IMAGE_DEFAULTS[image_name("127.0.0.1:5000/library/busybox:1.36")]
    assert container_argv(command, args, entrypoint, cmd) == expected


@pytest.mark.parametrize(("reference", "name"), [
    ("busybox", "busybox"), ("busybox:1.36", "busybox"), ("127.0.0.1:5000/busybox:latest", "busybox"),
    ("docker.io/library/alpine@sha256:" + "a" * 64, "alpine"),
])
def test_image_name(reference: str, name: str) -> None:
    assert image_name(reference) == name


async def test_fake_driver_runs_args_alone() -> None:
    runtime = FakeRuntime()
    spec = ContainerSpec(pod_uid="u", pod_name="p", namespace="d", name="c", image="x", args=["false"])
    status = await runtime.start_container(SandboxInfo("u"), spec)
    assert (status.state, status.exit_code) == ("exited", 1)


@pytest.mark.parametrize(("text", "expected"), [
    ("$(A)", "a"),
    ("x$(A)y$(B)z", "xay-bz"),
    ("$(MISSING)", "$(MISSING)"),
    ("$$(A)", "$(A)"),
    ("$$", "$"),
    ("echo $(hostname) $HOME", "echo $(hostname) $HOME"),
    ("$(A", "$(A"),
    ("trailing $", "trailing $"),
    ("$(A)$(A)", "aa"),
    ("", ""),
])
def test_expansion(text: str, expected: str) -> None:
    assert expand(text, {"A": "a", "B": "-b"}) == expected
