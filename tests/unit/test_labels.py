"""apimachinery.labels against Kubernetes' labels.Parse, Requirement.Matches / String(),
LabelSelectorAsSelector and util/validation messages (semantics.md §1.7)."""

from __future__ import annotations

import pytest

from apimachinery.labels import (
    Requirement,
    Selector,
    SelectorError,
    parse_selector,
    selector_from_label_selector,
    selector_from_set,
    validate_label_key,
    validate_label_value,
    validate_labels,
)

NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
             "must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "
             "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
PREFIX_MSG = ("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
              "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
              "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
QUALIFIED_MSG = ("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                 "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                 "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
                 "and '/' (e.g. 'example.com/MyName')")


@pytest.mark.parametrize(("selector", "labels", "matches"), [
    ("app=web", {"app": "web"}, True),
    ("app=web", {}, False),
    ("app==web", {"app": "db"}, False),
    ("app==web", {"app": "web"}, True),
    ("app!=web", {"app": "db"}, True),
    ("app!=web", {"app": "web"}, False),
    ("app!=web", {}, True),  # != matches objects lacking the key
    ("env in (prod,qa)", {"env": "qa"}, True),
    ("env in (prod,qa)", {"env": "dev"}, False),
    ("env in (prod,qa)", {}, False),
    ("env notin (prod)", {"env": "qa"}, True),
    ("env notin (prod)", {"env": "prod"}, False),
    ("env notin (prod)", {}, True),  # notin matches objects lacking the key
    ("track", {"track": ""}, True),
    ("track", {}, False),
    ("!canary", {"canary": "1"}, False),
    ("!canary", {}, True),
    ("replicas>3", {"replicas": "4"}, True),
    ("replicas>3", {"replicas": "3"}, False),
    ("replicas<3", {"replicas": "-7"}, True),
    ("replicas<3", {"replicas": "x"}, False),  # a label that is not an int64 never matches
    ("replicas>3", {"replicas": "99999999999999999999"}, False),  # out of int64 range
    ("replicas>3", {}, False),
    ("x in (foo,,baz)", {"x": ""}, True),
    ("z notin ()", {"z": ""}, False),  # "()" is the set holding only ""
    ("z notin ()", {"z": "a"}, True),
    ("app=", {"app": ""}, True),
    ("app=web,tier!=db", {"app": "web", "tier": "db"}, False),
    ("app=web,tier!=db", {"app": "web"}, True),
    ("", {"anything": "x"}, True),
])
def test_matching(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_selector(selector).matches(labels) is matches


@pytest.mark.parametrize(("text", "canonical"), [
    ("app=web,tier!=db,env in (prod,qa),!canary,track", "app=web,!canary,env in (prod,qa),tier!=db,track"),
    ("tier!=db,app=web,!canary,env in (qa,prod)", "app=web,!canary,env in (prod,qa),tier!=db"),
    ("x in (foo,,baz),y,z notin ()", "x in (,baz,foo),y,z notin ()"),
    ("  a  =  b  ", "a=b"),
    ("a==b", "a==b"),
    ("a>3,b<4", "a>3,b<4"),
    ("x in (c, b, a, b)", "x in (a,b,c)"),
    ("x in(a)", "x in (a)"),
    ("in in (in, notin)", "in in (in,notin)"),
    ("notin=in", "notin=in"),
    ("example.com/failure-domain == primary", "example.com/failure-domain==primary"),
    ("a=,b!=", "a=,b!="),
    ("x in (a,)", "x in (,a)"),
    ("\tk\n", "k"),
    ("", ""),
])
def test_canonical_string(text: str, canonical: str) -> None:
    assert str(parse_selector(text)) == canonical


@pytest.mark.parametrize(("text", "message"), [
    ("a,", "found '', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("a=b,,c", "found ',', expected: identifier after ','"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a=b=c", "found '=', expected: ',' or 'end of string'"),
    ("!a=b", "found '=', expected: ',' or 'end of string'"),
    ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a!b", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("a notin", "unable to parse requirement: found '' expected: '('"),
    ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
    ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("=x", "found '=', expected: !, identifier, or 'end of string'"),
    ("a>x", "unable to parse requirement: values[0]: Invalid value: \"x\": "
            "for 'Gt', 'Lt' operators, the value must be an integer"),
    ("-bad=x", f"unable to parse requirement: <nil>: Invalid value: \"-bad\": {NAME_MSG}"),
    ("a/b/c", f"unable to parse requirement: <nil>: Invalid value: \"a/b/c\": {QUALIFIED_MSG}"),
    ("A_/b", f"unable to parse requirement: <nil>: Invalid value: \"A_/b\": {PREFIX_MSG}"),
    ("a" * 64, f"unable to parse requirement: <nil>: Invalid value: \"{'a' * 64}\": "
               "name part must be no more than 63 characters"),
    ("a=-b", f"unable to parse requirement: values[0][a]: Invalid value: \"-b\": {VALUE_MSG}"),
])
def test_parse_errors_carry_kubernetes_messages(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        parse_selector(text)
    assert str(info.value) == message


@pytest.mark.parametrize(("key", "operator", "values", "message"), [
    ("a", "in", (), "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
    ("a", "notin", (), "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be "
                       "empty"),
    ("a", "=", ("1", "2"), 'values: Invalid value: []string{"1", "2"}: exact-match compatibility requires one '
                           'single value'),
    ("a", "!=", (), "values: Invalid value: []string(nil): exact-match compatibility requires one single value"),
    ("a", "exists", ("x",), 'values: Invalid value: []string{"x"}: values set must be empty for exists and does '
                            'not exist'),
    ("a", "gt", ("1", "2"), 'values: Invalid value: []string{"1", "2"}: for \'Gt\', \'Lt\' operators, exactly one '
                            'value is required'),
    ("a", "lt", ("x",), "values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"),
    ("a", "near", (), 'operator: Unsupported value: "near": supported values: "in", "notin", "=", "==", "!=", '
                      '"gt", "lt", "exists", "!"'),
    ("a b", "=", ("c",), f'key: Invalid value: "a b": {NAME_MSG}'),
    ("a", "=", ("b c",), f'values[0][a]: Invalid value: "b c": {VALUE_MSG}'),
    ("", "exists", (), 'key: Invalid value: "": name part must be non-empty; ' + NAME_MSG),
])
def test_requirement_validation(key: str, operator: str, values: tuple[str, ...], message: str) -> None:
    with pytest.raises(SelectorError) as info:
        Requirement(key, operator, values)
    assert str(info.value) == message


@pytest.mark.parametrize(("requirement", "text"), [
    (Requirement("a", "=", ("b",)), "a=b"),
    (Requirement("a", "==", ("b",)), "a==b"),
    (Requirement("a", "!=", ("b",)), "a!=b"),
    (Requirement("a", "in", ("y", "x")), "a in (x,y)"),
    (Requirement("a", "notin", ("",)), "a notin ()"),
    (Requirement("a", "exists"), "a"),
    (Requirement("a", "!"), "!a"),
    (Requirement("a", "gt", ("2",)), "a>2"),
    (Requirement("a", "lt", ("8",)), "a<8"),
])
def test_requirement_string(requirement: Requirement, text: str) -> None:
    assert str(requirement) == text


@pytest.mark.parametrize(("selector", "labels", "matches", "empty", "text"), [
    (None, {"a": "b"}, False, False, ""),  # nil selects nothing
    (None, {}, False, False, ""),
    ({}, {"a": "b"}, True, True, ""),  # {} selects everything
    ({"matchLabels": {}, "matchExpressions": []}, {}, True, True, ""),
    ({"matchLabels": {"app": "web"}}, {"app": "web", "x": "y"}, True, False, "app=web"),
    ({"matchLabels": {"app": "web"}}, {"app": "db"}, False, False, "app=web"),
    ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, {}, True, False, "!a"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"a": ""}, True, False, "a"),
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["qa", "prod"]}]}, {"env": "qa"}, True,
     False, "env in (prod,qa)"),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}, {}, True, False,
     "env notin (prod)"),
    ({"matchLabels": {"z": "1"}, "matchExpressions": [{"key": "a", "operator": "Exists"}]}, {"z": "1", "a": "x"},
     True, False, "a,z=1"),
])
def test_label_selector_struct(selector: dict | None, labels: dict[str, str], matches: bool, empty: bool,
                               text: str) -> None:
    parsed = selector_from_label_selector(selector)
    assert parsed.matches(labels) is matches
    assert parsed.empty() is empty
    assert str(parsed) == text


@pytest.mark.parametrize(("selector", "message"), [
    ({"matchExpressions": [{"key": "a", "operator": "Foo"}]}, '"Foo" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]},
     '"in" is not a valid label selector operator'),
    ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
     "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
    ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
     'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist'),
    ({"matchLabels": {"a": "b c"}}, f'values[0][a]: Invalid value: "b c": {VALUE_MSG}'),
    ({"matchLabels": {"-a": "b"}}, f'key: Invalid value: "-a": {NAME_MSG}'),
    ({"matchLabels": ["a"]}, "matchLabels must be a map of strings, not list"),
    ({"matchExpressions": {"a": 1}}, "matchExpressions must be a list, not dict"),
    ("app=web", "a LabelSelector must be an object, not str"),
])
def test_bad_label_selector_structs(selector: object, message: str) -> None:
    with pytest.raises(SelectorError) as info:
        selector_from_label_selector(selector)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize(("labels", "text", "matching", "not_matching"), [
    ({"b": "2", "a": "1"}, "a=1,b=2", {"a": "1", "b": "2", "c": "3"}, {"a": "1"}),
    ({}, "", {"x": "y"}, None),
    (None, "", {}, None),
])
def test_selector_from_set(labels: dict[str, str] | None, text: str, matching: dict[str, str],
                           not_matching: dict[str, str] | None) -> None:
    selector = selector_from_set(labels)
    assert str(selector) == text
    assert selector.matches(matching)
    assert selector.empty() is (not labels)
    if not_matching is not None:
        assert not selector.matches(not_matching)


@pytest.mark.parametrize(("selector", "empty", "matches_none", "text"), [
    (Selector.everything(), True, True, ""),
    (Selector.nothing(), False, False, ""),
    (Selector((Requirement("b", "exists"), Requirement("a", "!"))), False, False, "!a,b"),
])
def test_selector_constructors(selector: Selector, empty: bool, matches_none: bool, text: str) -> None:
    assert selector.empty() is empty
    assert selector.matches(None) is matches_none
    assert str(selector) == text


@pytest.mark.parametrize(("selector", "key", "value"), [
    ("a=b,c in (d)", "a", "b"), ("a=b,c in (d)", "c", "d"), ("a in (b,c)", "a", None), ("a!=b", "a", None),
    ("a=b", "z", None),
])
def test_requires_exact_match(selector: str, key: str, value: str | None) -> None:
    assert parse_selector(selector).requires_exact_match(key) == value


@pytest.mark.parametrize(("key", "messages"), [
    ("app", []), ("app.kubernetes.io/name", []), ("a" * 63, []), ("x/" + "a" * 63, []), ("A.b_c-9", []),
    ("", ["name part must be non-empty", NAME_MSG]),
    ("a" * 64, ["name part must be no more than 63 characters"]),
    ("-a", [NAME_MSG]), ("a_", [NAME_MSG]), ("a b", [NAME_MSG]), ("a\n", [NAME_MSG]),
    ("/a", ["prefix part must be non-empty"]),
    ("Example.com/a", [PREFIX_MSG]),
    ("a/", ["name part must be non-empty", NAME_MSG]),
    ("a/b/c", [QUALIFIED_MSG]),
    ("a" * 254 + "/b", ["prefix part must be no more than 253 characters"]),
])
def test_validate_label_key(key: str, messages: list[str]) -> None:
    assert validate_label_key(key) == messages


@pytest.mark.parametrize(("value", "messages"), [
    ("", []), ("web", []), ("a" * 63, []), ("My_value.1", []),
    ("a" * 64, ["must be no more than 63 characters"]),
    ("-a", [VALUE_MSG]), ("a b", [VALUE_MSG]), ("a/b", [VALUE_MSG]), ("é", [VALUE_MSG]), ("a\n", [VALUE_MSG]),
    ("-" * 64, ["must be no more than 63 characters", VALUE_MSG]),
])
def test_validate_label_value(value: str, messages: list[str]) -> None:
    assert validate_label_value(value) == messages


@pytest.mark.parametrize(("labels", "problems"), [
    (None, []),
    ({"app": "web", "tier": ""}, []),
    ({"bad key": "x", "app": "-web"}, [("metadata.labels", "-web", VALUE_MSG),
                                       ("metadata.labels", "bad key", NAME_MSG)]),
    ({"k": 1}, [("metadata.labels", "1", "label values must be strings")]),
])
def test_validate_labels(labels: dict | None, problems: list[tuple[str, str, str]]) -> None:
    assert validate_labels(labels, "metadata.labels") == problems


@pytest.mark.parametrize("bad", [None, 3, ["a=b"]])
def test_non_string_selectors_raise_typed_errors(bad: object) -> None:
    with pytest.raises(SelectorError):
        parse_selector(bad)  # type: ignore[arg-type]
