"""apimachinery.quantity against Kubernetes' ParseQuantity / String / Value / MilliValue tables
(k8s.io/apimachinery pkg/api/resource quantity_test.go) and exact arithmetic."""

from __future__ import annotations

from fractions import Fraction

import pytest

from apimachinery.quantity import (
    FORMAT_WRONG,
    SUFFIX_WRONG,
    Quantity,
    QuantityError,
    cpu_millis,
    memory_bytes,
    parse_quantity,
    sum_quantities,
)


@pytest.mark.parametrize(("text", "canonical"), [
    ("1.5", "1500m"), ("1000m", "1"), ("0.5Gi", "512Mi"), ("1536Mi", "1536Mi"), ("1024Mi", "1Gi"),
    ("1e3", "1e3"), ("100m", "100m"), ("0.1", "100m"), ("1001m", "1001m"), ("1G", "1G"), ("1000M", "1G"),
    ("500m", "500m"), ("128Mi", "128Mi"), ("+1", "1"), ("-2", "-2"), (".5", "500m"), ("0.1Ki", "102400m"),
    ("1E-3", "1e-3"), ("1.3E+6", "1300e3"), ("1e4", "10e3"), ("0.5e0", "500e-3"), ("1e0", "1"),
    ("1Ki", "1Ki"), ("1.5Gi", "1536Mi"), ("1025", "1025"), ("1025Ki", "1025Ki"), ("1023Ki", "1023Ki"),
    (".001Ki", "1024m"), (".000001Ki", "1024u"), (".000000001Ki", "1024n"), ("5Ki", "5Ki"),
    ("1.", "1"), ("1.G", "1G"), ("0.0005k", "500m"), ("100.035k", "100035"), ("10.035M", "10035k"),
    ("12E", "12E"), ("1000E", "1e21"), ("0", "0"), ("0Mi", "0"), ("-0", "0"), (".", "0"), ("00010", "10"),
    ("-1.5Gi", "-1536Mi"), ("-100m", "-100m"), ("80e-3", "80e-3"), ("300e6", "300e6"),
])
def test_canonical_form(text: str, canonical: str) -> None:
    q = parse_quantity(text)
    assert q.canonical() == canonical
    assert str(q) == canonical
    assert q.to_json() == canonical


@pytest.mark.parametrize(("text", "value", "fmt"), [
    ("3.001n", Fraction(4, 10**9), "DecimalSI"),  # sub-nano remainders round up (away from zero)
    ("1.1E-9", Fraction(2, 10**9), "DecimalExponent"),
    ("0.0000000001", Fraction(1, 10**9), "DecimalSI"),
    ("0.9n", Fraction(1, 10**9), "DecimalSI"),
    ("-0.9n", Fraction(-1, 10**9), "DecimalSI"),
    ("0.00000012345", Fraction(124, 10**9), "DecimalSI"),
    ("0.000000000001Ki", Fraction(2, 10**9), "DecimalSI"),  # BinarySI below 1 becomes DecimalSI
    ("9Ei", Fraction(2**63 - 1), "BinarySI"),  # BinarySI is capped at 2^63-1
    ("-9Ei", Fraction(-(2**63 - 1)), "BinarySI"),
    ("12E", Fraction(12 * 10**18), "DecimalSI"),  # DecimalSI is not capped
    ("100.035Ki", Fraction(10243584, 100), "BinarySI"),
    ("0.05Gi", Fraction(536870912, 10), "BinarySI"),
    ("1e3", Fraction(1000), "DecimalExponent"),
    ("1E", Fraction(10**18), "DecimalSI"),
    ("0", Fraction(0), "DecimalSI"),
    ("0Ki", Fraction(0), "BinarySI"),
])
def test_parsed_value_and_format(text: str, value: Fraction, fmt: str) -> None:
    q = parse_quantity(text)
    assert (q.value, q.format) == (value, fmt)


@pytest.mark.parametrize(("text", "millis", "value"), [
    ("500m", 500, 1), ("1.5", 1500, 2), ("1001m", 1001, 2), ("100u", 1, 1), ("1n", 1, 1), ("2", 2000, 2),
    ("128Mi", 134217728000, 134217728), ("1G", 10**12, 10**9), ("0", 0, 0),
    ("-1.5", -1500, -2), ("-100u", -1, -1),  # Value/MilliValue round away from zero
])
def test_value_rounding(text: str, millis: int, value: int) -> None:
    q = parse_quantity(text)
    assert q.milli_value() == millis
    assert q.value_int() == value


@pytest.mark.parametrize(("raw", "canonical"), [(2, "2"), (0, "0"), (0.5, "500m"), (0.1, "100m"), (-3, "-3"),
                                                (1e20, "100e18")])
def test_json_numbers(raw: int | float, canonical: str) -> None:
    assert parse_quantity(raw).canonical() == canonical


@pytest.mark.parametrize(("text", "message"), [
    ("", FORMAT_WRONG), ("1.2.3", FORMAT_WRONG), ("Mi", FORMAT_WRONG), ("1 Mi", FORMAT_WRONG),
    ("1KiB", FORMAT_WRONG), (" 1", FORMAT_WRONG), ("1 ", FORMAT_WRONG), ("aoeu", FORMAT_WRONG),
    ("+", FORMAT_WRONG), ("1.1.M", FORMAT_WRONG), ("1+1.0M", FORMAT_WRONG), ("k", FORMAT_WRONG),
    ("1mm", SUFFIX_WRONG), ("0.1mi", SUFFIX_WRONG), ("0.1am", FORMAT_WRONG), (".5i", SUFFIX_WRONG),
    ("1i", SUFFIX_WRONG), ("-3.01e-", SUFFIX_WRONG), ("1e", SUFFIX_WRONG), ("1Ki5", SUFFIX_WRONG),
    ("1e99999999", SUFFIX_WRONG),
])
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text)
    assert str(info.value).startswith(message)


def test_format_error_is_kubernetes_message() -> None:
    assert FORMAT_WRONG == ("quantities must match the regular expression "
                            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


@pytest.mark.parametrize("bad", [True, None, [1], float("nan"), float("inf")])
def test_non_quantity_inputs_raise_typed_errors(bad: object) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "fmt"), [(1.5, "DecimalSI"), ("1", "DecimalSI"), (Fraction(1), "Bogus")])
def test_malformed_quantity_objects_raise(value: object, fmt: str) -> None:
    with pytest.raises(QuantityError):
        Quantity(value, fmt)  # type: ignore[arg-type]


@pytest.mark.parametrize(("a", "b", "total", "difference"), [
    ("0.1", "0.2", "300m", "-100m"),
    ("1Gi", "512Mi", "1536Mi", "512Mi"),
    ("100m", "1Gi", "1073741824100m", "-1073741823900m"),  # receiver's DecimalSI wins
    ("0", "1Gi", "1Gi", "-1Gi"),  # a zero receiver takes the other's format
    ("1e3", "1", "1001", "999"),
    ("1", "1e3", "1001", "-999"),
    ("1.5", "-1.5", "0", "3"),
])
def test_arithmetic_is_exact(a: str, b: str, total: str, difference: str) -> None:
    qa, qb = parse_quantity(a), parse_quantity(b)
    assert (qa + qb).canonical() == total
    assert (qa - qb).canonical() == difference


@pytest.mark.parametrize(("text", "negated"), [("1.5", "-1500m"), ("-1Gi", "1Gi"), ("0", "0"), ("9.01", "-9010m")])
def test_negation(text: str, negated: str) -> None:
    assert (-parse_quantity(text)).canonical() == negated


@pytest.mark.parametrize(("a", "b", "cmp"), [
    ("0", "0", 0), ("100m", "50m", 1), ("50m", "100m", -1), ("10000T", "100Gi", 1), ("1Ki", "1024", 0),
    ("1000m", "1", 0), ("1e3", "1k", 0), ("-1", "1m", -1),
])
def test_comparison_ignores_format(a: str, b: str, cmp: int) -> None:
    qa, qb = parse_quantity(a), parse_quantity(b)
    assert ((qa > qb) - (qa < qb)) == cmp
    assert (qa == qb) is (cmp == 0)
    assert (qa <= qb) is (cmp <= 0)
    assert (qa >= qb) is (cmp >= 0)
    if cmp == 0:
        assert hash(qa) == hash(qb)


@pytest.mark.parametrize("other", [1, "1", None])
def test_quantity_never_equals_non_quantities(other: object) -> None:
    assert parse_quantity("1") != other


@pytest.mark.parametrize(("items", "total"), [
    ([], "0"), (["0.1", "0.2", "0.3"], "600m"), (["1Gi", "1Gi"], "2Gi"), (["0", "1Mi", "1Mi"], "2Mi"),
    ([parse_quantity("250m"), "750m", 1], "2"),
])
def test_sum_quantities(items: list, total: str) -> None:
    assert sum_quantities(items).canonical() == total


@pytest.mark.parametrize(("text", "millis"), [("500m", 500), ("1.5", 1500), (2, 2000), ("0.1", 100), ("1u", 1)])
def test_cpu_millis(text: str | int, millis: int) -> None:
    assert cpu_millis(text) == millis


@pytest.mark.parametrize(("text", "size"), [("128Mi", 134217728), ("1G", 10**9), ("1.5Ki", 1536), (1024, 1024),
                                            ("100m", 1)])
def test_memory_bytes(text: str | int, size: int) -> None:
    assert memory_bytes(text) == size


def test_quantity_is_immutable() -> None:
    q = parse_quantity("1")
    with pytest.raises(AttributeError):
        q.value = Fraction(2)  # type: ignore[misc]
    assert q.canonical() == "1"
