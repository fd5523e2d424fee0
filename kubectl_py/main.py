"""kubectl-py entry point. The command families arrive with the kubectl-py issue; until then
this says so plainly instead of pretending."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    print("kubectl-py: no commands yet; use the stock kubectl with the kubeconfig `kube-py up` writes",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
