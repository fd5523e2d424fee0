"""The argv a container runs: Kubernetes' command/args table over the image's ENTRYPOINT/CMD.

One pure helper shared by every driver, because getting it wrong is silent: a driver that
appends `args` to the image's default command runs `sh /bin/sh -c ...` for
`kubectl run x --image=busybox -- /bin/sh -c ...` (kubectl puts what follows `--` in args).

| command | args | runs                     |
|---------|------|--------------------------|
| -       | -    | ENTRYPOINT + CMD         |
| set     | -    | command (CMD dropped)    |
| -       | set  | ENTRYPOINT + args        |
| set     | set  | command + args           |
"""

from __future__ import annotations

from collections.abc import Sequence


def container_argv(command: Sequence[str], args: Sequence[str], entrypoint: Sequence[str],
                   cmd: Sequence[str]) -> list[str]:
    """The process a container starts, from the pod's command/args and the image's defaults."""
    if command:
        return [*command, *args]
    if args:
        return [*entrypoint, *args]
    return [*entrypoint, *cmd]
