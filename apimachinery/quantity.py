"""Resource quantities (`500m`, `1.5`, `128Mi`, `1G`, `1e3`) with exact arithmetic.

Values are Fractions, so 0.1 + 0.2 CPU is exactly 300m; `milli_value` and `value_int`
round up as Kubernetes' MilliValue/Value do; `canonical` prints Kubernetes' canonical form
in the quantity's own format family (binary suffixes stay binary).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from apimachinery.errors import ApiMachineryError

_PATTERN = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
            "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
            "P": Fraction(10**15), "E": Fraction(10**18)}
REGEX_MESSAGE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


class QuantityError(ApiMachineryError):
    """A string that is not a Kubernetes quantity."""


@dataclass(frozen=True)
class Quantity:
    value: Fraction
    format: str = "DecimalSI"  # "DecimalSI" | "BinarySI" | "DecimalExponent"

    def __add__(self, other: Quantity) -> Quantity:
        return Quantity(self.value + other.value, self.format)

    def __sub__(self, other: Quantity) -> Quantity:
        return Quantity(self.value - other.value, self.format)

    def __neg__(self) -> Quantity:
        return Quantity(-self.value, self.format)

    def __lt__(self, other: Quantity) -> bool:
        return self.value < other.value

    def __le__(self, other: Quantity) -> bool:
        return self.value <= other.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Quantity) and self.value == other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def milli_value(self) -> int:
        return math.ceil(self.value * 1000)

    def value_int(self) -> int:
        return math.ceil(self.value)

    def canonical(self) -> str:
        v = self.value
        if v == 0:
            return "0"
        sign = "-" if v < 0 else ""
        v = abs(v)
        if self.format == "BinarySI" and v.denominator == 1:
            for suffix, factor in reversed(list(_BINARY.items())):
                if v >= factor and (v / factor).denominator == 1:
                    return f"{sign}{v // factor}{suffix}"
            if v.denominator == 1 and v < 1024:
                return f"{sign}{v}"
        nanos = math.ceil(v * 10**9)
        for suffix, exp in (("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3), ("", 0), ("m", -3),
                            ("u", -6), ("n", -9)):
            scale = 10 ** (exp + 9)
            if nanos % scale == 0 and nanos // scale >= 1:
                return f"{sign}{nanos // scale}{suffix}"
        return f"{sign}{nanos}n"

    def __str__(self) -> str:
        return self.canonical()

    def to_json(self) -> str:
        return self.canonical()


def parse_quantity(text: str | int | float) -> Quantity:
    if isinstance(text, bool):
        raise QuantityError(REGEX_MESSAGE)
    if isinstance(text, int):
        return Quantity(Fraction(text))
    if isinstance(text, float):
        return Quantity(Fraction(str(text)))
    s = str(text).strip()
    match = _PATTERN.match(s)
    if not s or match is None:
        raise QuantityError(REGEX_MESSAGE)
    number, suffix = match.groups()
    if number.count(".") > 1 or number in ("", ".", "+", "-", "+.", "-."):
        raise QuantityError(REGEX_MESSAGE)
    try:
        base = Fraction(number)
    except (ValueError, ZeroDivisionError):
        raise QuantityError(REGEX_MESSAGE) from None
    if suffix in _BINARY:
        return Quantity(base * _BINARY[suffix], "BinarySI")
    if suffix in _DECIMAL:
        return Quantity(base * _DECIMAL[suffix])
    exp = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if exp:
        return Quantity(base * Fraction(10) ** int(exp.group(1)), "DecimalExponent")
    raise QuantityError(f"unable to parse quantity's suffix: {s!r}")


def sum_quantities(items: list[Quantity]) -> Quantity:
    total = Quantity(Fraction(0))
    for item in items:
        total = total + item
    return total


def cpu_millis(text: str | int | float) -> int:
    return parse_quantity(text).milli_value()


def memory_bytes(text: str | int | float) -> int:
    return parse_quantity(text).value_int()
