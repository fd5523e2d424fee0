"""The work queue's client-go guarantees: dedup, one worker per key, back-off, shutdown."""

from __future__ import annotations

import asyncio

import pytest

from kubeclient.workqueue import ExponentialBackoff, RateLimiter, ShutDown, TokenBucket, WorkQueue


async def test_duplicate_adds_are_processed_once() -> None:
    queue = WorkQueue()
    for _ in range(5):
        queue.add("a")
    queue.add("b")
    assert len(queue) == 2
    assert await queue.get() == "a"
    assert await queue.get() == "b"


async def test_key_is_never_handed_to_two_workers() -> None:
    queue = WorkQueue()
    queue.add("a")
    first = await queue.get()
    queue.add("a")  # changed again while being processed
    assert len(queue) == 0, "must wait for done()"
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    assert not second.done()
    queue.done(first)
    assert await asyncio.wait_for(second, 1) == "a"


async def test_add_after_delays_and_keeps_earliest() -> None:
    queue = WorkQueue()
    queue.add_after("x", 0.05)
    queue.add_after("x", 10)  # a later deadline does not push the earlier one back
    assert len(queue) == 0
    assert await asyncio.wait_for(queue.get(), 2) == "x"


@pytest.mark.parametrize(("failures", "expected"), [(0, 0.005), (1, 0.01), (2, 0.02), (10, 5.12), (30, 1000.0)])
def test_exponential_backoff(failures: int, expected: float) -> None:
    backoff = ExponentialBackoff()
    for _ in range(failures):
        backoff.when("k")
    assert backoff.when("k") == pytest.approx(expected)


def test_forget_resets_backoff() -> None:
    limiter = RateLimiter()
    for _ in range(5):
        limiter.when("k")
    assert limiter.retries("k") == 5
    limiter.forget("k")
    assert limiter.retries("k") == 0


def test_token_bucket_allows_burst_then_spaces() -> None:
    bucket = TokenBucket(qps=10, burst=3)
    assert [bucket.when("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.when("k") == pytest.approx(0.1, abs=0.02)


async def test_shutdown_wakes_workers() -> None:
    queue = WorkQueue()
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0.01)
    await queue.shutdown()
    with pytest.raises(ShutDown):
        await asyncio.wait_for(waiter, 1)
