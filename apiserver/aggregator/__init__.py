"""The aggregation layer, as kube-aggregator does it inside kube-apiserver.

An APIService object says "group/version is served by that Service": the API server lists
the group in discovery, proxies `/apis/<group>/<version>/...` to the Service's endpoints,
and keeps the object's `Available` condition from probing the backend. The group-versions
kube-py serves itself are registered as local APIServices at start, as Kubernetes does.
"""
