"""Durations and timestamps the way kubectl prints them.

`human_duration` is apimachinery's HumanDuration (the AGE column and describe's Events ages);
`describe_time` is describe's `Mon, 02 Jan 2006 15:04:05 -0700` layout. Both take `now`
explicitly so tests are deterministic.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def now_utc() -> datetime:
    return datetime.now(UTC)


def human_duration(seconds: float) -> str:
    """apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    years = hours // 24 // 365
    if years < 8:
        days = hours // 24 % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{years}y"


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """`translateTimestampSince`: `<unknown>` for a missing time."""
    when = parse_time(timestamp)
    if when is None:
        return "<unknown>"
    return human_duration(((now or now_utc()) - when).total_seconds())


def describe_time(timestamp: str | None) -> str:
    when = parse_time(timestamp)
    if when is None:
        return "<unknown>"
    return when.strftime("%a, %d %b %Y %H:%M:%S %z")


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
