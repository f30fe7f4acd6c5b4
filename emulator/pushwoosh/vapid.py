"""An application's VAPID key pair (RFC 8292): the public key the Web SDK subscribes browsers with.

Pushwoosh gives each web application its own P-256 key pair and hands the public half to the Web SDK
in getConfig's `vapid_key`; the SDK passes it to `pushManager.subscribe()` as the applicationServerKey,
and resubscribes when it changes. So the fake keeps the pair with the application (export and import
carry the private half) and the key a browser subscribed with stays valid across restarts.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class VapidKeys:
    """A P-256 key pair; `public_key` is the uncompressed point, base64url, as browsers take it."""

    __slots__ = ("_key",)

    def __init__(self, private_key: str | None = None) -> None:
        """A new pair, or the one whose private scalar `private_key` (base64url, 32 bytes) names."""
        if private_key is None:
            self._key = ec.generate_private_key(ec.SECP256R1())
            return
        try:
            scalar = int.from_bytes(_unb64url(private_key), "big")
            self._key = ec.derive_private_key(scalar, ec.SECP256R1())
        except (ValueError, TypeError) as exc:
            raise ValueError("vapid_private_key must be a P-256 private key, base64url") from exc

    @property
    def private_key(self) -> str:
        return _b64url(self._key.private_numbers().private_value.to_bytes(32, "big"))

    @property
    def public_key(self) -> str:
        return _b64url(self._key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
