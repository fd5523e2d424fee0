"""kubectl-py entry point: parse, open a session, run one command, map every failure to a line.

`main` is what the console script calls; `run` is the same thing as a coroutine so tests (and
asyncio callers) can drive commands in-process with their own streams. Exit codes follow
kubectl: 0 success, 1 command or server errors, 2 usage errors, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from apimachinery.errors import StatusError
from kubectl_py import cli
from kubectl_py.errors import CliError, UsageError, render
from kubectl_py.session import GlobalOptions, Streams, open_session, parse_timeout

COMMAND_MODULES = ("get", "apply", "delete", "describe", "rollout", "mutate", "generators", "edit", "logs",
                   "info", "config", "whypending", "completion", "auth")


def build_parser() -> cli.Parser:
    import importlib

    parser = cli.Parser(prog="kubectl-py", description="kubectl-py controls a kube-py cluster.",
                        command="")
    cli.add_global_flags(parser, suppress=False)
    parser.add_argument("-A", "--all-namespaces", action="store_true", default=False, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=cli.Parser)
    original_add = sub.add_parser

    def add_parser(name: str, **kwargs: object) -> cli.Parser:
        kwargs.setdefault("command", name)
        child = original_add(name, **kwargs)
        cli.add_global_flags(child, suppress=True)
        return child

    sub.add_parser = add_parser  # type: ignore[method-assign]
    for module in COMMAND_MODULES:
        importlib.import_module(f"kubectl_py.commands.{module}").register(sub)
    return parser


def split_dashes(argv: list[str]) -> tuple[list[str], list[str]]:
    """`exec pod -- sh -c x`: everything after the first `--` is the command, untouched by the parser."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def _command_path(args: argparse.Namespace) -> str:
    parts = [getattr(args, "command", None) or ""]
    for attr in ("rollout_verb", "config_verb", "set_what", "create_kind", "auth_verb"):
        if getattr(args, attr, None):
            parts.append(getattr(args, attr))
    return " ".join(p for p in parts if p)


def global_options(args: argparse.Namespace) -> GlobalOptions:
    return GlobalOptions(server=args.server, kubeconfig=args.kubeconfig, context=args.context,
                         namespace=args.namespace, all_namespaces=bool(getattr(args, "all_namespaces", False)),
                         request_timeout=parse_timeout(args.request_timeout))


async def run(argv: Sequence[str] | None = None, streams: Streams | None = None) -> int:
    streams = streams or Streams()
    words, after_dashes = split_dashes(list(sys.argv[1:] if argv is None else argv))
    server = ""
    session = None
    try:
        parser = build_parser()
        args, extras = parser.parse_known_args(words)
        if extras:
            unknown = next((w for w in extras if w.startswith("-")), None)
            raise UsageError(f"unknown flag: {unknown}" if unknown else f"unexpected arguments: {' '.join(extras)}",
                             _command_path(args))
        args.after_dashes = after_dashes
        if not args.command:
            streams.out.write(parser.format_help())
            return 0
        handler = getattr(args, "handler", None)
        if handler is None:
            raise UsageError("a subcommand is required", args.command)
        options = global_options(args)
        if getattr(args, "offline", False):
            return int(await handler(options, streams, args) or 0)
        session = open_session(options, streams)
        server = session.config.server
        return int(await handler(session, args) or 0)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except (StatusError, CliError) as exc:
        text, code = render(exc, server)
        streams.err.write(text.rstrip("\n") + "\n")
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the promise is "never a traceback"
        if os.environ.get("KUBECTL_PY_DEBUG"):
            raise
        text, code = render(exc, server)
        streams.err.write(text + "\n")
        return code
    finally:
        if session is not None:
            await session.close()


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return asyncio.run(run(argv))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
