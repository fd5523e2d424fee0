"""Label selectors, as k8s.io/apimachinery `pkg/labels` and metav1's LabelSelector define them.

Lists and watches filter on `?labelSelector=app=web,tier!=db`, and controllers find their pods
through `spec.selector` (a metav1.LabelSelector struct). Both must agree with Kubernetes to the
letter (semantics.md §1.7), so this module ports:

* the lexer and parser of `labels.Parse`: whitespace, `in (a, b)`, `notin ()` (a set holding
  only the empty string), `!key`, bare `key`, `=`/`==`/`!=`, `>`/`<`; requirements are sorted by
  key; errors carry Kubernetes' wording (`unable to parse requirement: ...`, `found 'x',
  expected: ...`, `<nil>: Invalid value: "k": name part must ...`);
* `NewRequirement` validation (`values set can't be empty`, `exact-match compatibility requires
  one single value`, integer values for `gt`/`lt`, label key and value formats);
* the matching rules: `!=` and `notin` match objects that lack the key; `gt`/`lt` need an int64;
* `LabelSelectorAsSelector`: nil selects nothing, `{}` selects everything;
* util/validation `IsQualifiedName` / `IsValidLabelValue` and metav1 `ValidateLabels`, with the
  exact messages API validation returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from apimachinery.errors import ApiMachineryError
from apimachinery.gofmt import go_quote, go_string_slice

# ---- util/validation: label keys and values --------------------------------------------------

QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
LABEL_VALUE_FMT = f"({QUALIFIED_NAME_FMT})?"
DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + "(\\." + DNS1123_LABEL_FMT + ")*"
QUALIFIED_NAME_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253

_QUALIFIED_NAME = re.compile(QUALIFIED_NAME_FMT)
_LABEL_VALUE = re.compile(LABEL_VALUE_FMT)
_DNS1123_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN_FMT)

_QUALIFIED_NAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                       "alphanumeric character")
_LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                    "and must start and end with an alphanumeric character")
_DNS1123_SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
                          "'.', and must start and end with an alphanumeric character")


class SelectorError(ApiMachineryError):
    """A label selector (string or struct) that cannot be parsed or is not valid."""


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """util/validation.RegexError, double spaces before `or` included."""
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def _byte_len(text: str) -> int:
    """Go's len(): bytes, not characters."""
    return len(text.encode("utf-8", "surrogatepass"))


def _dns1123_subdomain(value: str) -> list[str]:
    errs = [_max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH)] if _byte_len(value) > DNS1123_SUBDOMAIN_MAX_LENGTH else []
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errs.append(_regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def validate_label_key(key: str) -> list[str]:
    """util/validation.IsQualifiedName: `[dns-subdomain-prefix/]name`, name at most 63 characters."""
    parts = key.split("/")
    if len(parts) > 2:
        return ["a qualified name " + _regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name",
                                                   "123-abc")
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    errs: list[str] = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + message for message in _dns1123_subdomain(prefix)]
    name = parts[-1]
    if not name:
        errs.append("name part must be non-empty")
    elif _byte_len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errs.append("name part " + _max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _QUALIFIED_NAME.fullmatch(name):
        errs.append("name part " + _regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name",
                                                "123-abc"))
    return errs


def validate_label_value(value: str) -> list[str]:
    """util/validation.IsValidLabelValue: empty, or at most 63 of `[-A-Za-z0-9_.]` with alphanumeric ends."""
    errs = [_max_len_error(LABEL_VALUE_MAX_LENGTH)] if _byte_len(value) > LABEL_VALUE_MAX_LENGTH else []
    if not _LABEL_VALUE.fullmatch(value):
        errs.append(_regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def validate_labels(labels: Mapping[str, str] | None, path: str) -> list[tuple[str, str, str]]:
    """metav1 validation.ValidateLabels: `(field path, bad value, message)` per problem.

    As in Kubernetes the path is the map's own path (`metadata.labels`), and the bad value is
    the offending key or value. Keys are walked in sorted order (Go walks a map at random).
    """
    if labels is None:
        return []
    if not isinstance(labels, Mapping):
        raise SelectorError(f"{path}: labels must be a map of strings, not {type(labels).__name__}")
    problems: list[tuple[str, str, str]] = []
    for key in sorted(labels, key=str):
        value = labels[key]
        if not isinstance(key, str):
            problems.append((path, str(key), "label keys must be strings"))
            continue
        problems += [(path, key, message) for message in validate_label_key(key)]
        if not isinstance(value, str):
            problems.append((path, str(value), "label values must be strings"))
            continue
        problems += [(path, value, message) for message in validate_label_value(value)]
    return problems


# ---- Go rendering of field errors ----------------------------------------------------------

def _field_invalid(path: str, rendered_value: str, detail: str) -> str:
    """field.Invalid(...).Error(); a nil path prints as `<nil>`."""
    return f"{path or '<nil>'}: Invalid value: {rendered_value}: {detail}"


def _aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated in brackets."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"


# ---- requirements ----------------------------------------------------------------------------

EQUALS, DOUBLE_EQUALS, NOT_EQUALS = "=", "==", "!="
IN, NOT_IN, EXISTS, DOES_NOT_EXIST, GREATER_THAN, LESS_THAN = "in", "notin", "exists", "!", "gt", "lt"
BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
UNARY_OPERATORS = (EXISTS, DOES_NOT_EXIST)
OPERATORS = BINARY_OPERATORS + UNARY_OPERATORS

_INT64 = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _parse_int64(text: str) -> int | None:
    """strconv.ParseInt(text, 10, 64), or None where Go would return an error."""
    if not _INT64.fullmatch(text):
        return None
    number = int(text)
    return number if _INT64_MIN <= number <= _INT64_MAX else None


def _requirement_errors(key: str, operator: str, values: tuple[str, ...] | None, path: str) -> list[str]:
    """NewRequirement's checks, as field errors under `path` ("" is Go's nil path)."""
    def child(name: str) -> str:
        return f"{path}.{name}" if path else name

    rendered = go_string_slice(values)
    values = values or ()
    errs: list[str] = []
    key_problems = validate_label_key(key)
    if key_problems:
        errs.append(_field_invalid(child("key"), go_quote(key), "; ".join(key_problems)))
    if operator in (IN, NOT_IN):
        if not values:
            errs.append(_field_invalid(child("values"), rendered,
                                       "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(values) != 1:
            errs.append(_field_invalid(child("values"), rendered, "exact-match compatibility requires one single value"))
    elif operator in UNARY_OPERATORS:
        if values:
            errs.append(_field_invalid(child("values"), rendered,
                                       "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(values) != 1:
            errs.append(_field_invalid(child("values"), rendered,
                                       "for 'Gt', 'Lt' operators, exactly one value is required"))
        errs += [_field_invalid(f"{child('values')}[{i}]", go_quote(value),
                                "for 'Gt', 'Lt' operators, the value must be an integer")
                 for i, value in enumerate(values) if _parse_int64(value) is None]
    else:
        supported = ", ".join(go_quote(op) for op in OPERATORS)
        errs.append(f"{child('operator')}: Unsupported value: {go_quote(str(operator))}: "
                    f"supported values: {supported}")
    for i, value in enumerate(values):
        problems = validate_label_value(value)
        if problems:
            errs.append(_field_invalid(f"{child('values')}[{i}][{key}]", go_quote(value), "; ".join(problems)))
    return errs


@dataclass(frozen=True)
class Requirement:
    """One `key <operator> values` term; constructing one validates it as NewRequirement does."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.key, str):
            raise SelectorError(f"label selector key must be a string, not {type(self.key).__name__}")
        values = (self.values,) if isinstance(self.values, str) else tuple(self.values)
        if not all(isinstance(v, str) for v in values):
            raise SelectorError(f"label selector values must be strings: {values!r}")
        object.__setattr__(self, "values", values)
        errs = _requirement_errors(self.key, self.operator, values or None, "")
        if errs:
            raise SelectorError(_aggregate(errs))

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Requirement.Matches: `!=`/`notin` also match when the key is absent."""
        present = self.key in labels
        if self.operator in (IN, EQUALS, DOUBLE_EQUALS):
            return present and labels[self.key] in self.values
        if self.operator in (NOT_IN, NOT_EQUALS):
            return not present or labels[self.key] not in self.values
        if self.operator == EXISTS:
            return present
        if self.operator == DOES_NOT_EXIST:
            return not present
        if not present or len(self.values) != 1:  # gt / lt
            return False
        have, want = _parse_int64(labels[self.key]), _parse_int64(self.values[0])
        if have is None or want is None:
            return False
        return have > want if self.operator == GREATER_THAN else have < want

    def __str__(self) -> str:
        """Requirement.String(): `!k`, `k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k>1`, `k<1`."""
        if self.operator == DOES_NOT_EXIST:
            return f"!{self.key}"
        if self.operator == EXISTS:
            return self.key
        values = ",".join(sorted(self.values)) if len(self.values) > 1 else "".join(self.values)
        if self.operator in (IN, NOT_IN):
            return f"{self.key} {self.operator} ({values})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{values}"


def _unchecked(key: str, operator: str, values: tuple[str, ...]) -> Requirement:
    """A Requirement without validation, as SelectorFromSet builds them."""
    requirement = object.__new__(Requirement)
    object.__setattr__(requirement, "key", key)
    object.__setattr__(requirement, "operator", operator)
    object.__setattr__(requirement, "values", values)
    return requirement


# ---- selectors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selector:
    """An AND of requirements, kept sorted by key; or the selector that matches nothing."""

    requirements: tuple[Requirement, ...] = ()
    selects_nothing: bool = False

    def __post_init__(self) -> None:
        requirements = tuple(self.requirements)
        if not all(isinstance(r, Requirement) for r in requirements):
            raise SelectorError("a Selector is built from Requirement objects")
        object.__setattr__(self, "requirements", tuple(sorted(requirements, key=lambda r: r.key)))

    @classmethod
    def everything(cls) -> Selector:
        return cls()

    @classmethod
    def nothing(cls) -> Selector:
        return cls((), True)

    def empty(self) -> bool:
        """Empty(): true when nothing is filtered out (the nothing-selector is not empty)."""
        return not self.requirements and not self.selects_nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.selects_nothing:
            return False
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)

    def add(self, *requirements: Requirement) -> Selector:
        """Add(): a new selector with more requirements (the nothing-selector stays nothing)."""
        if self.selects_nothing:
            return self
        return Selector(self.requirements + requirements)

    def requires_exact_match(self, key: str) -> str | None:
        """RequiresExactMatch: the single value `key` must have, or None."""
        for requirement in self.requirements:
            if requirement.key == key:
                exact = requirement.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(requirement.values) == 1
                return requirement.values[0] if exact else None
        return None

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


# ---- the lexer and parser of labels.Parse ----------------------------------------------------

_ERROR, _EOS, _CLOSE, _COMMA, _NOT, _DOUBLE_EQ, _EQ, _GT, _ID, _IN, _LT, _NE, _NOTIN, _OPEN = range(14)
_LITERALS = {")": _CLOSE, ",": _COMMA, "!": _NOT, "==": _DOUBLE_EQ, "=": _EQ, ">": _GT, "in": _IN, "<": _LT,
             "!=": _NE, "notin": _NOTIN, "(": _OPEN}
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_OPERATOR_TOKENS = {_IN: IN, _NOTIN: NOT_IN, _EQ: EQUALS, _DOUBLE_EQ: DOUBLE_EQUALS, _NE: NOT_EQUALS,
                    _GT: GREATER_THAN, _LT: LESS_THAN}


def _lex(text: str) -> list[tuple[int, str]]:
    """Lexer.Lex until the end: special symbols greedily (`!=`, `==`), otherwise identifiers
    (anything up to whitespace or a special symbol), `in`/`notin` as keywords."""
    tokens: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= end:
            tokens.append((_EOS, ""))
            return tokens
        start = pos
        if text[pos] in _SPECIAL:
            pos += 1
            if pos < end and text[start:pos + 1] in _LITERALS:
                pos += 1
        else:
            while pos < end and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
                pos += 1
        literal = text[start:pos]
        tokens.append((_LITERALS.get(literal, _ID), literal))


class _Parser:
    """labels.Parser: a recursive descent over the scanned tokens."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.position = 0

    def lookahead(self, values: bool = True) -> tuple[int, str]:
        token, literal = self.tokens[self.position]
        return (_ID if values and token in (_IN, _NOTIN) else token), literal

    def consume(self, values: bool = True) -> tuple[int, str]:
        item = self.lookahead(values)
        self.position += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            token, literal = self.lookahead()
            if token == _EOS:
                return requirements
            if token not in (_ID, _NOT):
                raise SelectorError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.parse_requirement())
            except SelectorError as exc:
                raise SelectorError(f"unable to parse requirement: {exc}") from None
            token, literal = self.consume()
            if token == _EOS:
                return requirements
            if token != _COMMA:
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            token, literal = self.lookahead()
            if token not in (_ID, _NOT):
                raise SelectorError(f"found '{literal}', expected: identifier after ','")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator in UNARY_OPERATORS:
            return _validated(key, operator, ())
        operator = self.parse_operator()
        values = self.parse_values() if operator in (IN, NOT_IN) else self.parse_exact_value()
        return _validated(key, operator, tuple(sorted(values)))

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        operator = ""
        token, literal = self.consume()
        if token == _NOT:
            operator = DOES_NOT_EXIST
            token, literal = self.consume()
        if token != _ID:
            raise SelectorError(f"found '{literal}', expected: identifier")
        problems = validate_label_key(literal)
        if problems:
            raise SelectorError(_field_invalid("", go_quote(literal), "; ".join(problems)))
        if not operator and self.lookahead()[0] in (_EOS, _COMMA):
            operator = EXISTS
        return literal, operator

    def parse_operator(self) -> str:
        token, literal = self.consume(values=False)
        if token not in _OPERATOR_TOKENS:
            raise SelectorError(f"found '{literal}', expected: {', '.join(BINARY_OPERATORS)}")
        return _OPERATOR_TOKENS[token]

    def parse_values(self) -> set[str]:
        token, literal = self.consume()
        if token != _OPEN:
            raise SelectorError(f"found '{literal}' expected: '('")
        token, literal = self.lookahead()
        if token in (_ID, _COMMA):
            values = self.parse_identifiers_list()
            self.consume()  # the ')' that ended the list
            return values
        if token == _CLOSE:  # "()" is the set holding the empty string
            self.consume()
            return {""}
        raise SelectorError(f"found '{literal}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            token, literal = self.consume()
            if token == _ID:
                values.add(literal)
                following, following_literal = self.lookahead()
                if following == _CLOSE:
                    return values
                if following != _COMMA:
                    raise SelectorError(f"found '{following_literal}', expected: ',' or ')'")
            elif token == _COMMA:  # "(,", ",)" and ",," each contribute the empty string
                if not values:
                    values.add("")
                following = self.lookahead()[0]
                if following == _CLOSE:
                    values.add("")
                    return values
                if following == _COMMA:
                    self.consume()
                    values.add("")
            else:
                raise SelectorError(f"found '{literal}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_EOS, _COMMA):
            return {""}
        token, literal = self.consume()
        if token != _ID:
            raise SelectorError(f"found '{literal}', expected: identifier")
        return {literal}


def _validated(key: str, operator: str, values: tuple[str, ...]) -> Requirement:
    errs = _requirement_errors(key, operator, values, "")
    if errs:
        raise SelectorError(_aggregate(errs))
    return _unchecked(key, operator, values)


def parse_selector(text: str) -> Selector:
    """labels.Parse: the string form (`app=web,env in (prod,qa),!canary`); "" selects everything."""
    if not isinstance(text, str):
        raise SelectorError(f"a label selector must be a string, not {type(text).__name__}")
    return Selector(tuple(_Parser(text).parse()))


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """labels.SelectorFromSet: `k=v` for every pair, unvalidated; nil or {} selects everything."""
    return Selector(tuple(_unchecked(str(k), EQUALS, (str(v),)) for k, v in (labels or {}).items()))


_STRUCT_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def _struct_values(raw: Any) -> tuple[str, ...] | None:
    if raw is None or raw == []:
        return None  # Go copies the values with append(nil, ...), so an empty list is a nil slice
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise SelectorError(f"matchExpressions values must be a list of strings, not {raw!r}")
    return tuple(raw)


def _requirements_from_struct(selector: Mapping[str, Any]) -> Iterable[Requirement]:
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        raise SelectorError(f"matchLabels must be a map of strings, not {type(match_labels).__name__}")
    for key, value in match_labels.items():
        if not isinstance(value, str):
            raise SelectorError(f"matchLabels values must be strings, not {value!r}")
        yield _checked_struct_requirement(str(key), EQUALS, (value,))
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        raise SelectorError(f"matchExpressions must be a list, not {type(expressions).__name__}")
    for expression in expressions:
        if not isinstance(expression, Mapping):
            raise SelectorError(f"matchExpressions entries must be objects, not {expression!r}")
        operator = expression.get("operator", "")
        if operator not in _STRUCT_OPERATORS:
            raise SelectorError(f"{go_quote(str(operator))} is not a valid label selector operator")
        yield _checked_struct_requirement(str(expression.get("key", "")), _STRUCT_OPERATORS[operator],
                                          _struct_values(expression.get("values")))


def _checked_struct_requirement(key: str, operator: str, values: tuple[str, ...] | None) -> Requirement:
    errs = _requirement_errors(key, operator, values, "")
    if errs:
        raise SelectorError(_aggregate(errs))
    return _unchecked(key, operator, values or ())


def selector_from_label_selector(selector: Mapping[str, Any] | None) -> Selector:
    """metav1.LabelSelectorAsSelector: None selects nothing, `{}` everything; otherwise the AND
    of matchLabels (`=`) and matchExpressions (In, NotIn, Exists, DoesNotExist)."""
    if selector is None:
        return Selector.nothing()
    if not isinstance(selector, Mapping):
        raise SelectorError(f"a LabelSelector must be an object, not {type(selector).__name__}")
    return Selector(tuple(_requirements_from_struct(selector)))
