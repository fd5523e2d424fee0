"""Label selectors: the string syntax (`app=web,tier!=db,env in (a,b),!canary,track`) and the
LabelSelector struct, with Kubernetes' matching rules (semantics.md §1.7): `!=`/`notin`
match objects that lack the key, a nil LabelSelector matches nothing, `{}` everything."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from apimachinery.errors import ApiMachineryError

_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_OPERATORS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


class SelectorError(ApiMachineryError):
    """A selector that cannot be parsed or is not valid."""


def validate_label_key(key: str) -> list[str]:
    errors = []
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS.match(prefix)):
        errors.append("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                      "characters, '-' or '.', and must start and end with an alphanumeric character")
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    elif not _NAME.match(name):
        errors.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                      "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    return errors


def validate_label_value(value: str) -> list[str]:
    errors = []
    if len(value) > 63:
        errors.append("must be no more than 63 characters")
    if not _VALUE.match(value):
        errors.append("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                      "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                      "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
    return errors


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        has = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("=", "==", "in"):
            return has and value in self.values
        if self.operator in ("!=", "notin"):
            return not has or value not in self.values
        if self.operator == "exists":
            return has
        if self.operator == "!":
            return not has
        if self.operator in ("gt", "lt") and has:
            try:
                left, right = int(str(value)), int(self.values[0])
            except ValueError:
                return False
            return left > right if self.operator == "gt" else left < right
        return False

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({','.join(sorted(self.values))})"
        if self.operator in ("gt", "lt"):
            return f"{self.key}{'>' if self.operator == 'gt' else '<'}{self.values[0]}"
        return f"{self.key}{'=' if self.operator == '==' else self.operator}{self.values[0]}"


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()
    selects_nothing: bool = field(default=False)

    @classmethod
    def everything(cls) -> Selector:
        return cls()

    @classmethod
    def nothing(cls) -> Selector:
        return cls((), True)

    def empty(self) -> bool:
        return not self.requirements and not self.selects_nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in sorted(self.requirements, key=lambda r: r.key))


def _checked(key: str, operator: str, values: list[str]) -> Requirement:
    problems = validate_label_key(key)
    if problems:
        raise SelectorError(f"key: Invalid value: \"{key}\": {'; '.join(problems)}")
    if operator in ("in", "notin") and not values:
        raise SelectorError("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't "
                            "be empty")
    for value in values:
        if validate_label_value(value):
            raise SelectorError(f"values[0][{key}]: Invalid value: \"{value}\": "
                                f"{'; '.join(validate_label_value(value))}")
    return Requirement(key, operator, tuple(values))


_TERM = re.compile(r"\s*(!?)\s*([^\s,=!()<>]+)(?:\s*(==|=|!=|<|>)\s*([^\s,()]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*")


def parse_selector(text: str) -> Selector:
    """Kubernetes' labels.Parse."""
    requirements: list[Requirement] = []
    pos, text = 0, text or ""
    if not text.strip():
        return Selector()
    while pos <= len(text):
        match = _TERM.match(text, pos)
        if match is None or match.end() == pos:
            raise SelectorError(f"unable to parse requirement: found '{text[pos:pos + 10]}', expected: identifier")
        bang, key, op, value, set_op, set_values = match.groups()
        if bang and (op or set_op):
            raise SelectorError(f"unable to parse requirement: found '{op or set_op}', expected: ',' or end of string")
        if bang:
            requirements.append(_checked(key, "!", []))
        elif op:
            operator = {"<": "lt", ">": "gt"}.get(op, op)
            requirements.append(_checked(key, operator, [value]))
        elif set_op:
            values = [v.strip() for v in set_values.split(",") if v.strip()]
            requirements.append(_checked(key, set_op, values))
        else:
            requirements.append(_checked(key, "exists", []))
        pos = match.end()
        if pos >= len(text):
            break
        if text[pos] != ",":
            raise SelectorError(f"unable to parse requirement: found '{text[pos]}', expected: ',' or end of string")
        pos += 1
    return Selector(tuple(requirements))


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    return Selector(tuple(Requirement(k, "=", (v,)) for k, v in sorted((labels or {}).items())))


def selector_from_label_selector(selector: dict[str, Any] | None) -> Selector:
    """metav1.LabelSelectorAsSelector: nil → nothing, {} → everything."""
    if selector is None:
        return Selector.nothing()
    requirements = [_checked(k, "=", [str(v)]) for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        operator = expr.get("operator")
        if operator not in _OPERATORS:
            raise SelectorError(f'"{operator}" is not a valid label selector operator')
        requirements.append(_checked(expr.get("key", ""), _OPERATORS[operator], list(expr.get("values") or [])))
    return Selector(tuple(requirements))
