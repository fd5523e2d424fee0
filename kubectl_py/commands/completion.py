"""`completion bash|zsh|fish`: shell completion for verbs, resource types and, through
`kubectl-py get TYPE -o name`, object names. Generated from the parser, so it never lags the
commands."""

from __future__ import annotations

import argparse

from kubectl_py.errors import UsageError
from kubectl_py.session import GlobalOptions, Streams

RESOURCE_WORDS = "pods deployments replicasets services endpoints namespaces nodes jobs events leases all"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("completion", help="Output shell completion code for bash, zsh or fish",
                       command="completion")
    p.add_argument("shell", choices=["bash", "zsh", "fish"])
    p.set_defaults(handler=run_completion, offline=True)


def _verbs() -> list[str]:
    from kubectl_py.main import build_parser

    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return sorted(action.choices)
    return []


def bash_script(verbs: list[str]) -> str:
    return f"""# kubectl-py bash completion; load with: source <(kubectl-py completion bash)
_kubectl_py() {{
    local cur prev words cword
    cur="${{COMP_WORDS[COMP_CWORD]}}"
    prev="${{COMP_WORDS[COMP_CWORD-1]}}"
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "{' '.join(verbs)}" -- "$cur"))
        return
    fi
    case "$prev" in
        -n|--namespace)
            COMPREPLY=($(compgen -W "$(kubectl-py get namespaces -o name 2>/dev/null | cut -d/ -f2)" -- "$cur"))
            return;;
        -f|--filename|--kubeconfig)
            COMPREPLY=($(compgen -f -- "$cur"))
            return;;
    esac
    if [[ $COMP_CWORD -eq 2 ]]; then
        COMPREPLY=($(compgen -W "{RESOURCE_WORDS}" -- "$cur"))
        return
    fi
    if [[ $COMP_CWORD -eq 3 && "${{COMP_WORDS[2]}}" != -* ]]; then
        COMPREPLY=($(compgen -W "$(kubectl-py get "${{COMP_WORDS[2]}}" -o name 2>/dev/null | cut -d/ -f2)" -- "$cur"))
    fi
}}
complete -F _kubectl_py kubectl-py
"""


def zsh_script(verbs: list[str]) -> str:
    return "#compdef kubectl-py\n# kubectl-py zsh completion; load with: source <(kubectl-py completion zsh)\n" + \
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(verbs)


def fish_script(verbs: list[str]) -> str:
    lines = ["# kubectl-py fish completion; load with: kubectl-py completion fish | source",
             f"complete -c kubectl-py -f -n '__fish_use_subcommand' -a '{' '.join(verbs)}'",
             "complete -c kubectl-py -f -n '__fish_seen_subcommand_from get describe delete edit label annotate "
             f"scale' -a '{RESOURCE_WORDS}'",
             "complete -c kubectl-py -s n -l namespace -x -a '(kubectl-py get namespaces -o name 2>/dev/null | "
             "string replace namespace/ \"\")'",
             "complete -c kubectl-py -s f -l filename -r"]
    return "\n".join(lines) + "\n"


async def run_completion(options: GlobalOptions, streams: Streams, args: argparse.Namespace) -> int:
    verbs = _verbs()
    scripts = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}
    if args.shell not in scripts:
        raise UsageError(f"Unsupported shell type {args.shell!r}.", "completion")
    streams.out.write(scripts[args.shell](verbs))
    return 0
