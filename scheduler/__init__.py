"""The kube-py scheduler: queue, filter and score plugins, binder."""
