"""Encryption at rest of face templates: AES-256-GCM with a key kept outside the store.

The key is 32 random bytes in a file of its own (hex or raw), read from a path or from
``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``). The store records only the key's id
(first 16 hex digits of its sha256), so a copied store without the key reveals no template.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge_agent.gallery.errors import KeyMismatchError, StoreError, TemplateKeyError
from gridgate_core.secrets import secret_file

KEY_BYTES = 32
NONCE_BYTES = 12


@dataclass(frozen=True, slots=True)
class TemplateKey:
    material: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.material).hexdigest()[:16]

    def seal(self, plaintext: bytes, associated: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self.material).encrypt(nonce, plaintext, associated)

    def open(self, sealed: bytes, associated: bytes) -> bytes:
        try:
            return AESGCM(self.material).decrypt(
                sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated
            )
        except InvalidTag as exc:
            raise StoreError("store failed authentication: corrupt, or tampered with") from exc

    def __repr__(self) -> str:  # never print key material
        return f"TemplateKey(id={self.key_id})"


def generate_key(path: Path) -> TemplateKey:
    """Write a new random key (hex) readable only by its owner."""
    material = secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(material.hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return TemplateKey(material)


def load_key(path: Path | None = None, credential: str = "gallery_key") -> TemplateKey:
    """Read the key from ``path``, or from the systemd credential ``credential``."""
    source = path if path is not None else secret_file(credential)
    if source is None:
        raise TemplateKeyError(
            f"no template key: set gallery.key_file or provide the credential {credential!r}"
        )
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise TemplateKeyError(f"cannot read template key {source}: {exc.strerror}") from exc
    text = raw.strip()
    try:
        material = bytes.fromhex(text.decode()) if len(text) == 2 * KEY_BYTES else raw
    except (UnicodeDecodeError, ValueError) as exc:
        raise TemplateKeyError(f"{source}: not a hex or raw 32-byte key") from exc
    if len(material) != KEY_BYTES:
        raise TemplateKeyError(f"{source}: a template key is {KEY_BYTES} bytes")
    return TemplateKey(material)


def check_key_id(key: TemplateKey, expected: str) -> None:
    if key.key_id != expected:
        raise KeyMismatchError(
            f"the store was sealed with key {expected}, but the key provided is {key.key_id}"
        )
