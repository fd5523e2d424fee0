"""Shared e2e fixtures: a fresh multi-host cluster per test, checked to leave nothing behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.cluster import TestCluster, left_behind, netns_and_links


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[TestCluster]:
    before = netns_and_links()
    made = TestCluster(tmp_path / "cluster")
    try:
        yield made
    finally:
        made.down()
    assert left_behind(before) == (set(), set()), "cluster down left namespaces or links behind"
