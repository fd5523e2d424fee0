"""Cluster DNS served by the node agent (`kube-py kubelet --dns`, `kube-py dns`): `records`
computes Kubernetes' DNS records from Services and EndpointSlices, `server` answers UDP and
TCP queries with them, `resolvconf` writes the resolv.conf a pod gets for its dnsPolicy."""
