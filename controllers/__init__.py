"""The kube-py controller-manager: one informer-fed controller per module."""
