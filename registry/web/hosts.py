"""Which addresses a server may listen on: loopback freely; anything else exposes the answers to
the network, so only with a reason (tokens, or an explicit ``--public``). And the listening socket
itself, for ``serve`` and the web page alike."""

from __future__ import annotations

import ipaddress
import socket

from ..errors import InputError

__all__ = ["bind", "check_binding", "is_loopback"]


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


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one), or ``InputError``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(f"cannot listen on {host}: {exc.strerror}", hint="check --host") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise InputError(
            f"cannot listen on {host}:{port}: {exc.strerror}",
            hint="choose another --port, or stop what listens there",
        ) from None
    sock.set_inheritable(True)
    return sock
