"""The push webhook: GitHub's ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with a shared
secret), checked in constant time before anything else is read. A verified push of the followed
branch makes the server fetch at once."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from urllib.parse import parse_qs

import orjson

from ..errors import InputError
from .errors import BadSignature

__all__ = ["SECRET_VARIABLE", "check_signature", "load_secret", "pushed_ref"]

SECRET_VARIABLE = "PROMPTSHIP_WEBHOOK_SECRET"
_PREFIX = "sha256="


def load_secret(path: str | None) -> bytes | None:
    """The webhook secret: the file's content without its line break, else the environment
    variable ``PROMPTSHIP_WEBHOOK_SECRET``; ``None`` when neither is set (no webhook)."""
    if path is not None:
        try:
            secret = Path(path).read_bytes().strip()
        except OSError as exc:
            raise InputError(
                f"cannot read the webhook secret file {path}: {exc.strerror}",
                hint="give the path of a file holding the secret entered on GitHub",
            ) from None
        if not secret:
            raise InputError(
                f"the webhook secret file {path} is empty",
                hint="write the secret entered in the webhook's settings on GitHub into it",
            )
        return secret
    value = os.environ.get(SECRET_VARIABLE, "").strip()
    return value.encode() if value else None


def check_signature(secret: bytes, body: bytes, header: str | None) -> None:
    """Refuse (``BadSignature``) unless ``header`` is ``sha256=`` and the hex HMAC-SHA256 of
    ``body`` under ``secret``, as GitHub signs its deliveries."""
    expected = _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if header is None:
        raise BadSignature(
            "the request has no X-Hub-Signature-256 header",
            hint="set the same secret in the webhook's settings on GitHub",
        )
    if not hmac.compare_digest(expected.encode(), header.strip().encode("utf-8", "replace")):
        raise BadSignature(
            "the X-Hub-Signature-256 header does not match the body: wrong secret, or the body "
            "was changed on the way",
            hint="set the same secret in the webhook's settings on GitHub and in "
            "--webhook-secret-file",
        )


def pushed_ref(body: bytes) -> str | None:
    """The ref a verified push event names (``refs/heads/main``), if it names one. GitHub sends
    the event as JSON, or form-encoded in a ``payload`` field."""
    if body.startswith(b"payload="):
        body = parse_qs(body.decode("utf-8", "replace")).get("payload", [""])[0].encode()
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) else None
