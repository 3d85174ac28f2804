"""VAPID key pairs for web push (RFC 8292), in the forms the settings and the browser use:
the private key as the base64url raw 32-byte scalar (VAPID_PRIVATE_KEY), the public key as the
base64url uncompressed P-256 point (VAPID_PUBLIC_KEY, the browser's applicationServerKey)."""
import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def public_point(private_key) -> bytes:
    return private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.UncompressedPoint)


def generate_vapid_keys() -> tuple[str, str]:
    """(VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY), fresh."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(public_point(key)), b64url(key.private_numbers().private_value.to_bytes(32, "big"))
