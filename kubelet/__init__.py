"""The kube-py node agent."""
