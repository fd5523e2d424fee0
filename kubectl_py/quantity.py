"""Resource quantities (`100m`, `128Mi`, `2`) to numbers and back, for describe node and
why-pending, which add up requests and compare them with a node's allocatable."""

from __future__ import annotations

from typing import Any

_SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
}


def parse_quantity(value: Any) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * _SUFFIXES[suffix]
            except ValueError:
                return 0.0
    try:
        return float(text)
    except ValueError:
        return 0.0


def format_quantity(value: float, resource: str) -> str:
    """`250m` for CPU, `128Mi` for memory when it divides evenly, plain numbers otherwise."""
    if value == 0:
        return "0"
    if resource == "cpu":
        millis = round(value * 1000)
        return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"
    if resource in ("memory", "ephemeral-storage"):
        for suffix in ("Gi", "Mi", "Ki"):
            unit = _SUFFIXES[suffix]
            if value >= unit and value % unit == 0:
                return f"{int(value // unit)}{suffix}"
        return str(int(value))
    return str(int(value)) if float(value).is_integer() else str(value)
