"""`auth can-i` and `auth whoami`: kubectl-py next to the stock kubectl, same output and exit code."""

from __future__ import annotations

import pytest

from tests.integration.kubectl_py.conftest import KubectlPy, StockKubectl


@pytest.mark.parametrize("args", [
    ["auth", "can-i", "create", "pods"],
    ["auth", "can-i", "get", "deployments.apps/web", "-A"],
    ["auth", "can-i", "list", "foos"],
    ["auth", "can-i", "get", "/healthz"],
    ["auth", "can-i", "--list"],
    ["auth", "can-i", "create"],
    ["auth", "can-i", "-q", "delete", "nodes"],
    ["auth", "whoami"],
    ["auth", "whoami", "-o", "json"],
])
async def test_matches_kubectl(kp: KubectlPy, kubectl: StockKubectl, args: list[str]) -> None:
    ours, theirs = await kp(*args), kubectl(*args)
    assert (ours.code, ours.out, ours.err) == (theirs.code, theirs.out, theirs.err)
