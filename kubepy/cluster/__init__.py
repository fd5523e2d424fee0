"""The multi-host test cluster: hosts are network namespaces on one machine."""
