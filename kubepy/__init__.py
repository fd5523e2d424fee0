"""The `kube-py` command: one entry point that starts any kube-py component (like cmd/ in Kubernetes)."""
