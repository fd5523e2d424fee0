"""Kubernetes resource quantities (`500m`, `1.5`, `128Mi`, `1G`, `1e3`) with exact arithmetic.

Requests, limits, capacities and quotas are quantities; the scheduler sums them, the kubelet
turns them into cgroup numbers and the API server prints them back in canonical form. Doing
that with floats drifts (0.1 + 0.2 CPU is not 300m), so values here are `Fraction`s, and the
parsing, rounding and printing rules follow k8s.io/apimachinery `pkg/api/resource`:

* `parse_quantity` is `ParseQuantity`: the same scanner, suffixes and error messages; values
  finer than a nano are rounded up (away from zero) to the next nano; BinarySI values are capped
  at 2^63-1; a BinarySI value between 0 and 1 becomes DecimalSI.
  One deliberate difference: a bare suffix with no digits (`Mi`, `k`) is rejected with the
  regular-expression message, where Go quietly parses it as zero (kubernetes/apimachinery#165).
  Leading and trailing blanks are rejected as `ParseQuantity` does (JSON decoding trims them first).
* `Quantity.canonical()` is `CanonicalizeBytes`: the largest exact suffix in the quantity's own
  format family (binary suffixes stay binary, `1e3` stays an exponent, `1.5` becomes `1500m`).
* `milli_value()` / `value_int()` are `MilliValue()` / `Value()`: rounded up away from zero.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import total_ordering

from apimachinery.errors import ApiMachineryError

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"
FORMATS = (DECIMAL_SI, BINARY_SI, DECIMAL_EXPONENT)

SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT_RE}'"
SUFFIX_WRONG = "unable to parse quantity's suffix"
NUMERIC_WRONG = "unable to parse numeric part of quantity"

_SPLIT = re.compile(r"([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)")
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_EXPONENT = re.compile(r"[eE]([+-]?[0-9]+)")

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_BY_EXPONENT = {exponent: suffix for suffix, exponent in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_BY_POWER = {power // 10: suffix for suffix, power in _BINARY_SUFFIXES.items()}

NANO = Fraction(1, 10**9)
MAX_BINARY = 2**63 - 1  # ParseQuantity's cap on BinarySI values ("9Ei" parses as 2^63-1)
_MAX_EXPONENT = 10_000  # beyond this the number is absurd; refuse rather than build 10**huge


class QuantityError(ApiMachineryError):
    """A string that is not a Kubernetes quantity, or a malformed Quantity."""


def _round_away(value: Fraction) -> int:
    """The integer nearest to `value` away from zero (Go's Value()/MilliValue() rounding)."""
    return math.ceil(value) if value >= 0 else math.floor(value)


def _round_to_nano(value: Fraction) -> Fraction:
    """ParseQuantity keeps nanos only; a finer non-zero remainder rounds away from zero."""
    if (value / NANO).denominator == 1:
        return value
    return _round_away(value / NANO) * NANO


@total_ordering
@dataclass(frozen=True, eq=False)
class Quantity:
    """An immutable quantity: an exact value plus the format family it is printed in."""

    value: Fraction
    format: str = DECIMAL_SI

    def __post_init__(self) -> None:
        if isinstance(self.value, bool) or not isinstance(self.value, int | Fraction):
            raise QuantityError(f"quantity value must be an int or Fraction, not {type(self.value).__name__}")
        if self.format not in FORMATS:
            raise QuantityError(f"unknown quantity format {self.format!r}; expected one of {', '.join(FORMATS)}")
        object.__setattr__(self, "value", _round_to_nano(Fraction(self.value)))

    # -- arithmetic: Go's Add/Sub keep the receiver's format unless the receiver is zero --

    def _result_format(self, other: Quantity) -> str:
        return other.format if self.value == 0 else self.format

    def __add__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self.value + other.value, self._result_format(other))

    def __sub__(self, other: object) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self.value - other.value, self._result_format(other))

    def __neg__(self) -> Quantity:
        return Quantity(-self.value, self.format)

    # -- comparison (Cmp): the format never matters --

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.value == other.value

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.value < other.value

    def __hash__(self) -> int:
        return hash(self.value)

    def is_zero(self) -> bool:
        return self.value == 0

    def sign(self) -> int:
        return (self.value > 0) - (self.value < 0)

    # -- integer views --

    def value_int(self) -> int:
        """Go's Value(): the value rounded up to an integer, away from zero."""
        return _round_away(self.value)

    def milli_value(self) -> int:
        """Go's MilliValue(): ceil(value * 1000), away from zero."""
        return _round_away(self.value * 1000)

    # -- printing --

    def canonical(self) -> str:
        """CanonicalizeBytes: Kubernetes' canonical string for this quantity."""
        if self.value == 0:
            return "0"
        if self.format == BINARY_SI and abs(self.value) >= 1024 and self.value.denominator == 1:
            return _binary_canonical(int(self.value))
        fmt = DECIMAL_EXPONENT if self.format == DECIMAL_EXPONENT else DECIMAL_SI
        return _decimal_canonical(self.value, fmt)

    def __str__(self) -> str:
        return self.canonical()

    def to_json(self) -> str:
        return self.canonical()


def _binary_canonical(value: int) -> str:
    """AsCanonicalBase1024Bytes: strip factors of 1024 into a binary suffix (at most Ei)."""
    power = 0
    while power < 6 and value % 1024 == 0:
        value //= 1024
        power += 1
    return f"{value}{_BINARY_BY_POWER.get(power, '')}"


def _decimal_canonical(value: Fraction, fmt: str) -> str:
    """AsCanonicalBytes: mantissa and a base-10 exponent that is a multiple of 3, as large as
    possible without fractional digits; then the SI suffix or `e<exp>`."""
    exponent = 0
    while value.denominator != 1:  # values are whole nanos, so this stops by -9
        value *= 10
        exponent -= 1
    mantissa = int(value)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    while exponent % 3 != 0:
        mantissa *= 10
        exponent -= 1
    if fmt == DECIMAL_SI and exponent in _DECIMAL_BY_EXPONENT:
        return f"{mantissa}{_DECIMAL_BY_EXPONENT[exponent]}"
    # DecimalExponent, or DecimalSI beyond "E": exponent notation keeps the magnitude.
    return f"{mantissa}e{exponent}" if exponent else str(mantissa)


@dataclass(frozen=True)
class _Scanned:
    negative: bool
    digits: str  # numerator digits followed by the fraction digits
    fraction_digits: int
    suffix: str


def _scan(text: str) -> _Scanned:
    """parseQuantityString: sign, digits, optional `.digits`, suffix letters, optional signed digits."""
    if _SPLIT.fullmatch(text) is None:
        raise QuantityError(FORMAT_WRONG)
    pos, end = 0, len(text)
    negative = text[0] == "-"
    if text[0] in "+-":
        pos = 1
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    whole = text[start:pos]
    fraction = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        fraction = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos != end:  # e.g. "1.2.3": a second dot after the number
        raise QuantityError(FORMAT_WRONG)
    return _Scanned(negative, (whole + fraction) or "0", len(fraction), text[suffix_start:])


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """quantitySuffixer.interpret: (base, exponent, format)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    match = _EXPONENT.fullmatch(suffix)
    if match is None:
        raise QuantityError(SUFFIX_WRONG)
    exponent = int(match.group(1))
    if abs(exponent) > _MAX_EXPONENT:
        raise QuantityError(f"{SUFFIX_WRONG}: exponent {exponent} is out of range")
    return 10, exponent, DECIMAL_EXPONENT


def _from_number(number: int | float) -> str:
    if isinstance(number, bool):
        raise QuantityError(f"a quantity must be a string or a number, not {number!r}")
    if isinstance(number, float) and not math.isfinite(number):
        raise QuantityError(FORMAT_WRONG)
    return str(number)


def parse_quantity(text: Quantity | str | int | float) -> Quantity:
    """ParseQuantity. Numbers (a JSON `cpu: 2`) are parsed from their decimal text."""
    if isinstance(text, Quantity):
        return text
    if isinstance(text, int | float):
        text = _from_number(text)
    if not isinstance(text, str):
        raise QuantityError(f"a quantity must be a string or a number, not {type(text).__name__}")
    if text == "":
        raise QuantityError(FORMAT_WRONG)
    if text == "0":
        return Quantity(Fraction(0), DECIMAL_SI)
    scanned = _scan(text)
    base, exponent, fmt = _interpret_suffix(scanned.suffix)
    value = Fraction(int(scanned.digits), 10**scanned.fraction_digits) * Fraction(base) ** exponent
    value = _round_to_nano(value)
    if fmt == BINARY_SI:
        if value > MAX_BINARY:
            value = Fraction(MAX_BINARY)
        if 0 < value < 1:
            fmt = DECIMAL_SI
    return Quantity(-value if scanned.negative else value, fmt)


def sum_quantities(items: Iterable[Quantity | str | int | float]) -> Quantity:
    """The sum, exact; like repeated Add, the first non-zero item decides the format."""
    total = Quantity(Fraction(0), DECIMAL_SI)
    for item in items:
        total = total + parse_quantity(item)
    return total


def cpu_millis(text: Quantity | str | int | float) -> int:
    """`500m` -> 500, `1.5` -> 1500 (MilliValue)."""
    return parse_quantity(text).milli_value()


def memory_bytes(text: Quantity | str | int | float) -> int:
    """`128Mi` -> 134217728, `1G` -> 10**9 (Value, rounded up)."""
    return parse_quantity(text).value_int()
