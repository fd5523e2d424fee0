"""The argument grammar: kubectl's global flags on every command, usage errors as exit 2.

argparse is configured to behave like cobra where users notice: global flags are accepted before
and after the verb (`kubectl-py -n x get pods` and `kubectl-py get pods -n x`), abbreviations are
off, an unknown flag says `error: unknown flag: --foo`, and nothing exits from inside the parser
(errors are raised as `UsageError`, so `main` owns every exit code).
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn

from kubectl_py.errors import UsageError

Handler = Callable[..., Awaitable[int | None]]


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, command: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self.command = command

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            flags = message.split(":", 1)[1].split()
            unknown = next((f for f in flags if f.startswith("-")), None)
            message = f"unknown flag: {unknown}" if unknown else \
                f"unexpected arguments: {' '.join(flags)}"
        elif "invalid choice:" in message and message.startswith("argument "):
            wanted = message.split("'", 2)[1] if "'" in message else message
            where = f"kubectl-py {self.command}".strip() if self.command else "kubectl-py"
            message = f'unknown command "{wanted}" for "{where}"'
        elif "expected one argument" in message:
            flag = message.split(":", 1)[0].replace("argument ", "").split("/")[-1]
            message = f"flag needs an argument: {flag}"
        raise UsageError(message, self.command)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status:
            raise UsageError((message or "").strip().removeprefix("error: "), self.command)
        raise SystemExit(0)


def add_global_flags(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """kubectl's persistent flags; on subcommands their defaults are suppressed so a value given
    before the verb is not overwritten."""

    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("global flags")
    group.add_argument("-s", "--server", default=d(""), help="The address and port of the API server")
    group.add_argument("--kubeconfig", default=d(""), help="Path to the kubeconfig file to use")
    group.add_argument("--context", default=d(""), help="The name of the kubeconfig context to use")
    group.add_argument("-n", "--namespace", default=d(""), help="If present, the namespace scope for this request")
    group.add_argument("--request-timeout", default=d("0"),
                       help="The length of time to wait before giving up on a single server request (e.g. 1s, 2m)")


def add_filename_flags(parser: argparse.ArgumentParser, required: bool = False, what: str = "") -> None:
    parser.add_argument("-f", "--filename", action="append", default=[], required=required,
                        help=f"Files, directories or URLs {what}('-' for stdin)")
    parser.add_argument("-R", "--recursive", action="store_true", help="Process directories recursively")


def add_selector(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-l", "--selector", default="", help="Label selector (e.g. -l key1=value1,key2=value2)")


def add_all_namespaces(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-A", "--all-namespaces", action="store_true",
                        help="List the requested object(s) across all namespaces")


def add_output(parser: argparse.ArgumentParser, help_text: str = "") -> None:
    parser.add_argument("-o", "--output", default="",
                        help=help_text or "Output format: json|yaml|name|jsonpath=...|custom-columns=...")


def add_dry_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", nargs="?", const="client", default="none",
                        help="Must be \"none\", \"server\", or \"client\"")


def dry_run_mode(args: argparse.Namespace) -> str:
    mode = getattr(args, "dry_run", "none")
    if mode not in ("none", "client", "server"):
        raise UsageError(f'Invalid dry-run value ({mode}). Must be "none", "server", or "client".')
    return mode


def dry_run_suffix(mode: str) -> str:
    return {"client": " (dry run)", "server": " (server dry run)"}.get(mode, "")
