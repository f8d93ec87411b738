"""Atomic, versioned, encrypted files for the gallery and the stranger store.

Layout::

    b"GGSTORE1"                       magic and format version
    u32 header length, header JSON    kind, key id, engine, written_at (no personal data)
    nonce + AES-GCM ciphertext        an .npz of arrays plus a JSON record list

The header is authenticated as associated data, so it cannot be altered either. A write goes to
a new file, is fsynced, renamed over the old one, and the folder is fsynced: a crash leaves the
old store or the new one, never a mix.
"""

from __future__ import annotations

import io
import json
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from edge_agent.gallery.crypto import TemplateKey, check_key_id
from edge_agent.gallery.errors import StoreError

MAGIC = b"GGSTORE1"
FORMAT = 1


@dataclass(frozen=True)
class StoreContents:
    kind: str
    engine: str
    records: list[dict[str, Any]]
    arrays: dict[str, np.ndarray]
    written_at: str


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def write_store(
    path: Path,
    key: TemplateKey,
    kind: str,
    engine: str,
    records: list[dict[str, Any]],
    arrays: dict[str, np.ndarray],
) -> None:
    header = json.dumps(
        {
            "format": FORMAT,
            "kind": kind,
            "key_id": key.key_id,
            "engine": engine,
            "written_at": datetime.now(UTC).isoformat(),
        },
        sort_keys=True,
    ).encode()
    buffer = io.BytesIO()
    payload: dict[str, Any] = {
        "records": np.frombuffer(json.dumps(records).encode(), dtype=np.uint8),
        **arrays,
    }
    np.savez(buffer, **payload)
    associated = MAGIC + header
    sealed = key.seal(buffer.getvalue(), associated)
    atomic_write(path, MAGIC + struct.pack("<I", len(header)) + header + sealed)


def read_header(path: Path) -> tuple[dict[str, Any], bytes, bytes]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StoreError(f"cannot read store {path}: {exc.strerror}") from exc
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 4:
        raise StoreError(f"{path} is not a gridgate store (or of a newer format)")
    (length,) = struct.unpack_from("<I", raw, len(MAGIC))
    start = len(MAGIC) + 4
    header_bytes = raw[start : start + length]
    try:
        header = json.loads(header_bytes)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path}: unreadable header") from exc
    if header.get("format") != FORMAT:
        raise StoreError(f"{path}: store format {header.get('format')!r} is not supported")
    return header, header_bytes, raw[start + length :]


def read_store(path: Path, key: TemplateKey, kind: str) -> StoreContents:
    header, header_bytes, sealed = read_header(path)
    if header.get("kind") != kind:
        raise StoreError(f"{path} holds a {header.get('kind')!r} store, expected {kind!r}")
    check_key_id(key, str(header.get("key_id")))
    plain = key.open(sealed, MAGIC + header_bytes)
    with np.load(io.BytesIO(plain), allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files if name != "records"}
        records = json.loads(bytes(data["records"]).decode())
    return StoreContents(kind, str(header["engine"]), records, arrays, str(header["written_at"]))
