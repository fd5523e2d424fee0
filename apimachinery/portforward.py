"""The `ports` query of port-forward's channel protocol, checked where both the API server
(before it upgrades the connection) and the kubelet read it."""

from __future__ import annotations


def parse_ports(values: list[str]) -> list[int]:
    """The `ports` query of the channel protocol (repeated or comma-separated), checked as the
    kubelet's parsePortForwardOptions does; ValueError with its message otherwise."""
    ports = []
    for text in (p for value in values for p in value.split(",")):
        if not text.isascii() or not text.isdigit():
            raise ValueError(f'unable to parse "{text}" as a port: strconv.ParseUint: parsing "{text}": '
                             "invalid syntax")
        port = int(text)
        if not 0 < port < 65536:
            raise ValueError(f'port "{text}" must be > 0' if port <= 0 else
                             f'unable to parse "{text}" as a port: strconv.ParseUint: parsing "{text}": '
                             "value out of range")
        ports.append(port)
    if not ports:
        raise ValueError('query parameter "port" is required')
    return ports
