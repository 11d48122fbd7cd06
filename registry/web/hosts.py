"""Which addresses a server may listen on: loopback freely; anything else exposes the answers to
the network, so only with a reason (tokens, or an explicit ``--public``)."""

from __future__ import annotations

import ipaddress

from ..errors import InputError

__all__ = ["check_binding", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only: ``localhost``, 127.0.0.0/8, ``::1``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, *, tokens: bool, public: bool) -> None:
    """Refuse to listen on a non-loopback ``host`` without tokens, unless ``public`` says that
    anyone who can reach it may read every prompt."""
    if is_loopback(host) or tokens or public:
        return
    raise InputError(
        f"--host {host} is reachable from other machines, and no --token-file protects it",
        hint="require tokens with --token-file FILE, or pass --public if every prompt may be "
        "read by anyone who reaches this address",
    )
