"""kubectl's JSONPath templates (`-o jsonpath=`, `custom-columns`, `--sort-by`).

The dialect is Kubernetes' (k8s.io/client-go/util/jsonpath), not RFC 9535: text outside braces
is literal, `{range …}{end}` loops, `{"\\n"}` is a string literal, several results of one
expression are joined by a space, maps and lists print as compact JSON, and missing keys print
nothing (kubectl enables AllowMissingKeys).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from kubectl_py.errors import CliError


class JsonPathError(CliError):
    pass


# ---- path expressions --------------------------------------------------------------------

@dataclass
class Step:
    kind: str  # field | recursive | index | slice | wildcard | filter | union
    name: str = ""
    index: int = 0
    start: int | None = None
    stop: int | None = None
    filter: tuple[list[Step], str, Any] | None = None
    names: list[str] = field(default_factory=list)


_FIELD_RE = re.compile(r"(?:\\.|[^.\[\]\\])+")


def parse_path(text: str) -> list[Step]:
    """`.items[*].metadata.name`, `$.a['b.c']`, `..image`, `.status.conditions[?(@.type=="Ready")].status`."""
    steps: list[Step] = []
    i = 0
    text = text.strip()
    if text.startswith("$"):
        i = 1
    elif text.startswith("@"):
        i = 1
    elif text and text[0] not in ".[":
        text = "." + text
    while i < len(text):
        ch = text[i]
        if text.startswith("..", i):
            match = _FIELD_RE.match(text, i + 2)
            if not match:
                raise JsonPathError(f"unrecognized identifier in {text!r}")
            steps.append(Step("recursive", name=_unescape(match.group())))
            i = match.end()
        elif ch == ".":
            match = _FIELD_RE.match(text, i + 1)
            if not match:
                i += 1  # a trailing "." or "{.}" means the current node
                continue
            name = _unescape(match.group())
            steps.append(Step("wildcard") if name == "*" else Step("field", name=name))
            i = match.end()
        elif ch == "[":
            end = _closing_bracket(text, i)
            steps.append(_bracket(text[i + 1:end].strip()))
            i = end + 1
        else:
            raise JsonPathError(f"unrecognized character in action: U+{ord(ch):04X} '{ch}'")
    return steps


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def _closing_bracket(text: str, start: int) -> int:
    depth, quote = 0, ""
    for j in range(start, len(text)):
        ch = text[j]
        if quote:
            if ch == quote:
                quote = ""
            continue
        if ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return j
    raise JsonPathError(f"unterminated array in {text!r}")


def _bracket(inner: str) -> Step:
    if inner == "*":
        return Step("wildcard")
    if inner.startswith("?(") and inner.endswith(")"):
        return Step("filter", filter=_parse_filter(inner[2:-1].strip()))
    if inner[:1] in "'\"":
        names = [part.strip()[1:-1] for part in _split_top(inner, ",")]
        return Step("union", names=names) if len(names) > 1 else Step("field", name=names[0])
    if ":" in inner:
        parts = inner.split(":")
        start = int(parts[0]) if parts[0].strip() else None
        stop = int(parts[1]) if len(parts) > 1 and parts[1].strip() else None
        return Step("slice", start=start, stop=stop)
    if "," in inner:
        return Step("union", names=[p.strip() for p in inner.split(",")])
    try:
        return Step("index", index=int(inner))
    except ValueError:
        raise JsonPathError(f"invalid array index {inner!r}") from None


def _split_top(text: str, sep: str) -> list[str]:
    parts, quote, current = [], "", ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == sep:
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return parts


_FILTER_RE = re.compile(r"^(@[^\s=!<>]*)\s*(==|!=|<=|>=|<|>|=~)?\s*(.*)$")


def _parse_filter(expr: str) -> tuple[list[Step], str, Any]:
    match = _FILTER_RE.match(expr)
    if not match:
        raise JsonPathError(f"unrecognized filter {expr!r}")
    path, op, literal = match.group(1), match.group(2) or "", match.group(3).strip()
    value: Any = None
    if op:
        if literal[:1] in "'\"":
            value = literal[1:-1]
        else:
            try:
                value = json.loads(literal)
            except ValueError:
                value = literal
    return parse_path(path), op, value


def _compare(left: Any, op: str, right: Any) -> bool:
    try:
        if op == "==":
            return left == right or str(left) == str(right)
        if op == "!=":
            return not (left == right or str(left) == str(right))
        if op == "<":
            return left < right
        if op == ">":
            return left > right
        if op == "<=":
            return left <= right
        if op == ">=":
            return left >= right
        if op == "=~":
            return re.search(str(right), str(left)) is not None
    except TypeError:
        return False
    return False


def _recursive(node: Any, name: str) -> list[Any]:
    found: list[Any] = []
    if isinstance(node, dict):
        if name in node:
            found.append(node[name])
        for key in sorted(node):
            found += _recursive(node[key], name)
    elif isinstance(node, list):
        for item in node:
            found += _recursive(item, name)
    return found


def evaluate(steps: list[Step], root: Any) -> list[Any]:
    nodes = [root]
    for step in steps:
        nxt: list[Any] = []
        for node in nodes:
            nxt += _apply(step, node)
        nodes = nxt
    return nodes


def _apply(step: Step, node: Any) -> list[Any]:
    if step.kind == "field":
        return [node[step.name]] if isinstance(node, dict) and step.name in node else []
    if step.kind == "recursive":
        return _recursive(node, step.name)
    if step.kind == "wildcard":
        if isinstance(node, dict):
            return [node[k] for k in sorted(node)]
        return list(node) if isinstance(node, list) else []
    if not isinstance(node, list):
        if step.kind == "union" and isinstance(node, dict):
            return [node[n] for n in step.names if n in node]
        return []
    if step.kind == "index":
        idx = step.index if step.index >= 0 else len(node) + step.index
        return [node[idx]] if 0 <= idx < len(node) else []
    if step.kind == "slice":
        return node[step.start:step.stop]
    if step.kind == "union":
        out = []
        for n in step.names:
            try:
                out.append(node[int(n)])
            except (ValueError, IndexError):
                pass
        return out
    if step.kind == "filter" and step.filter is not None:
        path, op, value = step.filter
        out = []
        for item in node:
            found = evaluate(path, item)
            if not op:
                if found and found[0] not in (None, False):
                    out.append(item)
            elif found and _compare(found[0], op, value):
                out.append(item)
        return out
    return []


# ---- templates -------------------------------------------------------------------------

@dataclass
class Node:
    kind: str  # text | path | range | end
    text: str = ""
    steps: list[Step] = field(default_factory=list)
    body: list[Node] = field(default_factory=list)


def parse_template(template: str) -> list[Node]:
    tokens: list[Node] = []
    i = 0
    while i < len(template):
        start = template.find("{", i)
        if start < 0:
            tokens.append(Node("text", text=template[i:]))
            break
        if start > i:
            tokens.append(Node("text", text=template[i:start]))
        end = _closing_brace(template, start)
        tokens.append(_action(template[start + 1:end].strip()))
        i = end + 1
    root, _ = _nest(tokens, 0)
    return root


def _closing_brace(text: str, start: int) -> int:
    quote = ""
    for j in range(start + 1, len(text)):
        ch = text[j]
        if quote:
            if ch == "\\":
                continue
            if ch == quote and text[j - 1] != "\\":
                quote = ""
            continue
        if ch == '"':
            quote = ch
        elif ch == "}":
            return j
    raise JsonPathError(f"unclosed action in template {text!r}")


def _action(inner: str) -> Node:
    if inner.startswith('"') and inner.endswith('"') and len(inner) >= 2:
        return Node("text", text=json.loads(inner) if "\\" in inner else inner[1:-1])
    if inner.startswith("range ") or inner.startswith("range\t"):
        return Node("range", steps=parse_path(inner[6:].strip()))
    if inner == "end":
        return Node("end")
    if inner in ("", "@", "$", "."):
        return Node("path", steps=[])
    return Node("path", steps=parse_path(inner))


def _nest(tokens: list[Node], i: int) -> tuple[list[Node], int]:
    out: list[Node] = []
    while i < len(tokens):
        token = tokens[i]
        if token.kind == "end":
            return out, i
        if token.kind == "range":
            body, i = _nest(tokens, i + 1)
            if i >= len(tokens):
                raise JsonPathError("not in range, nothing to end")
            token.body = body
        out.append(token)
        i += 1
    return out, i


def go_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_sprint(value: Any) -> str:
    """Go's fmt.Sprint of a decoded JSON value."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, list):
        return "[" + " ".join(go_sprint(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_sprint(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def text_of(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return go_json(value)
    return go_sprint(value)


def _render(nodes: list[Node], data: Any) -> str:
    out: list[str] = []
    for node in nodes:
        if node.kind == "text":
            out.append(node.text)
        elif node.kind == "path":
            out.append(" ".join(text_of(v) for v in evaluate(node.steps, data)))
        elif node.kind == "range":
            for item in evaluate(node.steps, data):
                out.append(_render(node.body, item))
    return "".join(out)


def execute(template: str, data: Any) -> str:
    return _render(parse_template(template), data)


def relaxed(expression: str) -> str:
    """kubectl's RelaxedJSONPathExpression: `.a.b`, `a.b` and `{.a.b}` all mean `{.a.b}`."""
    expr = expression.strip()
    if expr.startswith("{") and expr.endswith("}"):
        expr = expr[1:-1]
    if not expr.startswith((".", "$", "[")):
        expr = "." + expr
    return expr


def find(expression: str, data: Any) -> list[Any]:
    return evaluate(parse_path(relaxed(expression)), data)
