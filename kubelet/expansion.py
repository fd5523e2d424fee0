"""`$(VAR)` references in env values, command and args, expanded as the kubelet does.

Kubernetes' third_party/forked/golang/expansion: `$(NAME)` becomes NAME's value when NAME
is defined, and stays as written otherwise; `$$` is a literal `$`; any other `$` is kept.
A shell's `$(hostname)` in `sh -c` therefore survives unless an env var `hostname` exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def expand(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    checkpoint = cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            rest = text[cursor + 1:]
            if rest[0] == "$":
                out.append("$")
                advance = 1
            elif rest[0] == "(":
                close = rest.find(")", 1)
                if close == -1:
                    out.append("$(")
                    advance = 1
                else:
                    name = rest[1:close]
                    out.append(env[name] if name in env else f"$({name})")
                    advance = close + 1
            else:
                out.append("$" + rest[0])
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


def expand_all(items: Sequence[str], env: Mapping[str, str]) -> list[str]:
    return [expand(item, env) for item in items]
