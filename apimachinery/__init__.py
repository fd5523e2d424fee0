"""Kubernetes API machinery for kube-py: object types, selectors, patches, quantities, errors.

Everything here is pure (no I/O) so that every component can share it.
"""
