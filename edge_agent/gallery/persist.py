"""Loading and saving the gallery and the stranger store, and rotating their key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edge_agent.gallery.crypto import TemplateKey
from edge_agent.gallery.errors import StoreError
from edge_agent.gallery.gallery import Gallery
from edge_agent.gallery.index import IndexConfig
from edge_agent.gallery.store import read_header, read_store, write_store
from edge_agent.gallery.strangers import StrangerStore

GALLERY_FILE = "gallery.store"
STRANGERS_FILE = "strangers.store"


@dataclass
class Stores:
    gallery: Gallery
    strangers: StrangerStore


class StoreFiles:
    def __init__(self, folder: Path, key: TemplateKey) -> None:
        self.folder = folder
        self.key = key

    @property
    def gallery_path(self) -> Path:
        return self.folder / GALLERY_FILE

    @property
    def strangers_path(self) -> Path:
        return self.folder / STRANGERS_FILE

    def save_gallery(self, gallery: Gallery) -> None:
        records, arrays = gallery.export()
        write_store(self.gallery_path, self.key, "gallery", gallery.engine, records, arrays)

    def save_strangers(self, strangers: StrangerStore, engine: str) -> None:
        records, arrays = strangers.export()
        write_store(self.strangers_path, self.key, "strangers", engine, records, arrays)

    def load(
        self,
        dimension: int,
        engine: str,
        join_threshold: float,
        index: IndexConfig | None = None,
    ) -> Stores:
        """Load both stores (empty ones when absent). Templates of another engine are refused."""
        gallery = Gallery(dimension, engine, index)
        strangers = StrangerStore(dimension, join_threshold)
        if self.gallery_path.exists():
            contents = read_store(self.gallery_path, self.key, "gallery")
            if contents.engine != engine:
                raise StoreError(
                    f"{self.gallery_path} holds templates of engine {contents.engine!r}; this edge "
                    f"runs {engine!r}. Templates of different engines never mix: re-enrol."
                )
            gallery = Gallery.restore(dimension, engine, contents.records, contents.arrays, index)
        if self.strangers_path.exists():
            contents = read_store(self.strangers_path, self.key, "strangers")
            if contents.engine == engine:
                strangers = StrangerStore.restore(
                    dimension, join_threshold, contents.records, contents.arrays
                )
        return Stores(gallery, strangers)


def rotate_key(folder: Path, old: TemplateKey, new: TemplateKey) -> list[Path]:
    """Re-encrypt every store in ``folder`` under ``new``.

    Each file is decrypted with ``old`` and written atomically under ``new``: after a crash, each
    file is wholly under one key, and the header names which. Running it again finishes the job.
    """
    done = []
    for name, kind in ((GALLERY_FILE, "gallery"), (STRANGERS_FILE, "strangers")):
        path = folder / name
        if not path.exists():
            continue
        header, _, _ = read_header(path)
        if header.get("key_id") == new.key_id:
            continue  # already rotated
        contents = read_store(path, old, kind)
        write_store(path, new, kind, contents.engine, contents.records, contents.arrays)
        done.append(path)
    return done
