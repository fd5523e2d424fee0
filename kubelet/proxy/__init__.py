"""The service proxy (kube-proxy's iptables mode) run by `kube-py proxy` or `kube-py kubelet --proxy`.

It lives beside the kubelet because it is a node agent too: it programs the node's own
network namespace so that ClusterIPs and NodePorts reach ready endpoints. `rules` turns
Services and Endpoints into one iptables-restore blob without side effects, so it can be
tested table-driven; `proxier` feeds it from informers and applies the blob atomically.
"""
