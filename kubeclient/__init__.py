"""Async Kubernetes client for kube-py components: REST, kubeconfig, informers, work queues."""
