"""How kubectl-py fails: one clear line on stderr and kubectl's exit codes.

Commands raise `CliError` (exit 1, printed as `error: ...`) or `UsageError` (exit 2); API
failures arrive as `StatusError` and are printed as kubectl prints a metav1.Status. Nothing
else reaches the user as a traceback: `main` turns any other exception into one line.
"""

from __future__ import annotations

from urllib.parse import urlparse

from apimachinery.errors import StatusError


class CliError(Exception):
    """A failure the user can act on; printed as `error: <message>`."""

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int | None = None, raw: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.raw = raw  # print the message as is, without the `error: ` prefix
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CliError):
    """Bad flags or arguments (exit 2), with a pointer to the command's help."""

    exit_code = 2

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.command = command


def is_unreachable(err: StatusError) -> bool:
    return err.code == 503 and err.message.startswith(("cannot reach", "watch to"))


def unreachable_message(server: str) -> str:
    parsed = urlparse(server)
    host = parsed.netloc or server
    return f"The connection to the server {host} was refused - did you specify the right host or port?"


def format_status_error(err: StatusError, server: str = "") -> str:
    """kubectl's rendering of an API error (cmdutil.CheckErr / StandardErrorMessage)."""
    if is_unreachable(err):
        return unreachable_message(server)
    if err.code == 401:
        return "error: You must be logged in to the server (Unauthorized)"
    if err.code == 422 and err.causes and (err.kind or err.name):
        head = f'The {err.kind} "{err.name}" is invalid: '
        texts = [f"{cause.field}: {cause.message}" for cause in err.causes]
        if len(texts) == 1:
            return head + texts[0]
        return head + "\n" + "\n".join(f"* {text}" for text in texts)
    reason = err.reason or "Unknown"
    return f"Error from server ({reason}): {err.message}"


def add_source(err: StatusError, verb: str, source: str) -> StatusError:
    """kubectl's AddSourceToErr: `error when creating "f.yaml": <message>` inside the Status."""
    if is_unreachable(err) or not source:
        return err
    return StatusError(err.code, err.reason, f'error when {verb} "{source}": {err.message}', name=err.name,
                       group=err.group, kind=err.kind, causes=list(err.causes))


def render(err: BaseException, server: str = "") -> tuple[str, int]:
    """The stderr text and exit code for any error that ends a command."""
    if isinstance(err, StatusError):
        return format_status_error(err, server), 1
    if isinstance(err, UsageError):
        where = f"kubectl-py {err.command}" if err.command else "kubectl-py"
        hint = f"\nSee '{where} --help' for usage."
        return f"error: {err.message}{hint}", 2
    if isinstance(err, CliError):
        return (err.message if err.raw else f"error: {err.message}"), err.exit_code
    return f"error: {type(err).__name__}: {err}", 1
