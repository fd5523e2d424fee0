"""kubectl-py: the kube-py command line."""
