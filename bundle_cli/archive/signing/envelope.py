"""The Sigstore bundle around a statement: DSSE signing and checking with an EC key.

The key is a PEM file (P-256, P-384 or P-521, as model-signing accepts), optionally encrypted.
Signatures are deterministic (RFC 6979), so signing the same archive with the same key twice
gives the same file. The bundle carries the sha256 of the public key's PEM as its hint, which
model-signing compares with the key it is given.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from bundle_cli.errors import BadSignatureError, UsageError

MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
_CURVES = {"secp256r1": "SHA256", "secp384r1": "SHA384", "secp521r1": "SHA512"}


def pae(payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    head = f"DSSEv1 {len(PAYLOAD_TYPE)} {PAYLOAD_TYPE} {len(payload)} "
    return head.encode("utf-8") + payload


def load_private_key(path: Path, password: str | None) -> Any:
    """An EC private key from a PEM file; UsageError naming the file when it cannot be used."""
    from cryptography.hazmat.primitives import serialization

    data = _read(path, "key")
    try:
        key = serialization.load_pem_private_key(
            data, password.encode("utf-8") if password is not None else None
        )
    except TypeError as exc:  # a password given for a plain key, or none for an encrypted one
        hint = "give its password with --password-file or BUNDLE_KEY_PASSWORD"
        raise UsageError(f"{path}: {exc}", hint=None if password else hint) from None
    except ValueError as exc:
        raise UsageError(f"{path}: not a usable PEM private key ({exc})") from None
    _check_curve(key.public_key(), path)
    return key


def load_public_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except ValueError as exc:
        raise UsageError(f"{path}: not a PEM public key ({exc})") from None
    _check_curve(key, path)
    return key


def seal(payload: bytes, key: Any) -> bytes:
    """The Sigstore bundle JSON of `payload` signed with the private `key`."""
    from cryptography.hazmat.primitives.asymmetric import ec

    algorithm = ec.ECDSA(_hash(key.public_key()), deterministic_signing=True)
    signature = key.sign(pae(payload), algorithm)
    doc = {
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint(key.public_key())},
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode("ascii"),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": base64.b64encode(signature).decode("ascii"), "keyid": ""}],
        },
    }
    return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


def open_sealed(path: Path, public_key: Any) -> bytes:
    """The payload of the Sigstore bundle at `path` once its signature checks out."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        doc = json.loads(_read(path, "signature"))
        envelope = doc["dsseEnvelope"]
        hint = (doc.get("verificationMaterial") or {}).get("publicKey", {}).get("hint")
        payload = base64.b64decode(envelope["payload"], validate=True)
        signature = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
        kind = envelope["payloadType"]
        media = doc["mediaType"]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise BadSignatureError(f"{path}: not a Sigstore bundle with a DSSE envelope") from None
    if media != MEDIA_TYPE or kind != PAYLOAD_TYPE:
        raise BadSignatureError(f"{path}: media type {media!r} / payload {kind!r} not supported")
    if hint and hint != key_hint(public_key):
        raise BadSignatureError(f"{path}: signed with another key than the one given")
    try:
        public_key.verify(signature, pae(payload), ec.ECDSA(_hash(public_key)))
    except InvalidSignature:
        raise BadSignatureError(f"{path}: the signature does not match its content") from None
    return payload


def key_hint(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(pem).hexdigest()


def _hash(public_key: Any) -> Any:
    from cryptography.hazmat.primitives import hashes

    return getattr(hashes, _CURVES[public_key.curve.name])()


def _check_curve(key: Any, path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
        raise UsageError(f"{path}: only EC keys on P-256, P-384 or P-521 are supported")


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the {what}: {exc.strerror}") from None
