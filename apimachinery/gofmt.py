"""Go's formatting of values inside Kubernetes error messages (`%q`, `%#v` of a []string),
so field errors read byte for byte as the Go API server writes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\", '"': '\\"'}


def go_quote(value: str) -> str:
    """Go's strconv.Quote."""
    out = []
    for char in value:
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def go_string_slice(value: Iterable[Any] | None) -> str:
    """Go's %#v of a []string; None renders as a nil slice."""
    if value is None:
        return "[]string(nil)"
    return "[]string{" + ", ".join(go_quote(str(item)) for item in value) + "}"
