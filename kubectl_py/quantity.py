"""Resource quantities (`100m`, `128Mi`, `2`) to numbers and back, for describe node and
why-pending, which add up requests and compare them with a node's allocatable."""

from __future__ import annotations

from typing import Any

from apimachinery import quantity as apimachinery_quantity

_BINARY_UNITS = {"Gi": 2**30, "Mi": 2**20, "Ki": 2**10}


def parse_quantity(value: Any) -> float:
    """The amount of a quantity, by the one parser the server validates with (a malformed
    value raises QuantityError, which the command reports in one line, instead of counting 0)."""
    return float(apimachinery_quantity.parse_quantity(value).value)


def format_quantity(value: float, resource: str) -> str:
    """`250m` for CPU, `128Mi` for memory when it divides evenly, plain numbers otherwise."""
    if value == 0:
        return "0"
    if resource == "cpu":
        millis = round(value * 1000)
        return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"
    if resource in ("memory", "ephemeral-storage"):
        for suffix, unit in _BINARY_UNITS.items():
            if value >= unit and value % unit == 0:
                return f"{int(value // unit)}{suffix}"
        return str(int(value))
    return str(int(value)) if float(value).is_integer() else str(value)
