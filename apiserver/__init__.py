"""The kube-py API server: Kubernetes REST over aiohttp, backed by etcd or embedded SQLite."""
