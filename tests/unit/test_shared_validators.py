"""The one set of name, label and quantity validators every component uses, against
Kubernetes' rules: table cases from k8s.io/apimachinery's validation tests, and hypothesis
properties that compare them with a character-by-character reading of the same rules."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apimachinery.labels import validate_label_key, validate_label_value
from apimachinery.quantity import QuantityError, parse_quantity
from apimachinery.validation import is_dns1123_label, is_dns1123_subdomain
from kubectl_py.quantity import parse_quantity as kubectl_quantity

ALNUM_LOWER = string.ascii_lowercase + string.digits


@pytest.mark.parametrize("value, ok", [
    ("a", True), ("ab", True), ("a-b", True), ("0", True), ("a" * 63, True), ("1-2-3", True),
    ("", False), ("A", False), ("-a", False), ("a-", False), ("a_b", False), ("a.b", False), ("a" * 64, False),
    ("web\n", False), ("\nweb", False), ("a b", False),
])
def test_dns1123_label(value: str, ok: bool) -> None:
    assert (is_dns1123_label(value) == []) is ok


@pytest.mark.parametrize("value, ok", [
    ("a.b.c", True), ("a-1.b", True), ("11.22.33", True), ("a" * 253, True),
    ("a..b", False), (".a", False), ("a.", False), ("A.b", False), ("a" * 254, False), ("a.b\n", False),
])
def test_dns1123_subdomain(value: str, ok: bool) -> None:
    assert (is_dns1123_subdomain(value) == []) is ok


@pytest.mark.parametrize("value, ok", [
    ("", True), ("simple", True), ("now-with-dashes", True), ("1-starts-with-num", True), ("a.b_c-d", True),
    ("x\n", False), ("-x", False), ("x_", False), ("nospecial$chars", False), ("a" * 64, False),
])
def test_label_value(value: str, ok: bool) -> None:
    assert (validate_label_value(value) == []) is ok


@pytest.mark.parametrize("value, ok", [
    ("simple", True), ("example.com/simple", True), ("a/b", True), ("app\n", False), ("/a", False),
    ("a/", False), ("a/b/c", False), ("Example.com/x", False),
])
def test_label_key(value: str, ok: bool) -> None:
    assert (validate_label_key(value) == []) is ok


@pytest.mark.parametrize("text", ["2 ", " 2", "12Gi ", "1Gi\n", "", "1.2.3", "Mi", "1Zi", "--1", "1e", "0x10"])
def test_quantity_rejects_what_kubernetes_rejects(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
    with pytest.raises(QuantityError):
        kubectl_quantity(text)


@pytest.mark.parametrize("text, canonical", [
    ("0.5", "500m"), ("1024Mi", "1Gi"), ("1000m", "1"), ("1.5Gi", "1536Mi"), ("100m", "100m"),
    ("1e3", "1e3"), ("0.1Ki", "102400m"), (2, "2"), ("12e6", "12e6"),
])
def test_canonical_forms(text: object, canonical: str) -> None:
    assert parse_quantity(text).canonical() == canonical


def test_kubectl_py_reads_quantities_like_the_server() -> None:
    assert kubectl_quantity("500m") == 0.5
    assert kubectl_quantity("1Gi") == 2**30


def label_rule(value: str) -> bool:
    """RFC 1123 label, read character by character (the rule, not the regex)."""
    return 0 < len(value) <= 63 and all(c in ALNUM_LOWER + "-" for c in value) \
        and value[0] in ALNUM_LOWER and value[-1] in ALNUM_LOWER


def label_value_rule(value: str) -> bool:
    allowed = string.ascii_letters + string.digits + "-_."
    ends = string.ascii_letters + string.digits
    return value == "" or (len(value.encode()) <= 63 and all(c in allowed for c in value)
                           and value[0] in ends and value[-1] in ends)


names = st.text(alphabet=ALNUM_LOWER + "-._A\n \u00e9", max_size=70)


@settings(max_examples=500)
@given(names)
def test_dns1123_label_matches_the_rule(value: str) -> None:
    assert (is_dns1123_label(value) == []) is label_rule(value)


@settings(max_examples=500)
@given(names)
def test_dns1123_subdomain_matches_the_rule(value: str) -> None:
    expected = 0 < len(value) <= 253 and all(label_rule(part) for part in value.split("."))
    assert (is_dns1123_subdomain(value) == []) is expected


@settings(max_examples=500)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.$\n \u00e9", max_size=70))
def test_label_value_matches_the_rule(value: str) -> None:
    assert (validate_label_value(value) == []) is label_value_rule(value)
