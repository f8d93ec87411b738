"""dlib's ResNet read from its .dat and run on onnxruntime: parity with dlib, checksums."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from edge_agent.vision import build_engine
from edge_agent.vision.config import EngineConfig
from edge_agent.vision.dlib_onnx import DatFormatError, convert, read_dat
from edge_agent.vision.embedders.dlib_onnx import DlibOnnxEmbedder
from edge_agent.vision.errors import ModelChecksumError, ModelError
from edge_agent.vision.models import load_manifest, locate, sha256_of
from edge_agent.vision.types import bgr_to_rgb, read_image
from gridgate_devkit.evaluation import list_dataset, subject_face
from gridgate_devkit.presets import preset_config
from tests.conftest import LFW, need_shared

SOURCE = load_manifest().by_name("dlib_resnet_v1")
CONVERTED = load_manifest().by_name("dlib_resnet_v1_onnx")


@pytest.fixture(scope="module")
def converted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("converted")


def test_default_engine_converts_at_first_start_into_the_models_dir(converted_dir: Path) -> None:
    assert not (converted_dir / "dlib_resnet_v1.onnx").exists()
    engine = build_engine(EngineConfig(models_dir=converted_dir))
    assert isinstance(engine.embedder, DlibOnnxEmbedder)
    path = converted_dir / "dlib_resnet_v1.onnx"
    # The conversion is deterministic: its output is the file the manifest records.
    assert sha256_of(path) == CONVERTED.sha256
    # Same vector space as dlib's runtime, so stores enrolled with either stay usable.
    assert engine.info.embedder == "dlib_resnet"
    assert engine.embedder.thresholds is not None


def test_a_tampered_conversion_is_converted_again(converted_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    shutil.copyfile(converted_dir / "dlib_resnet_v1.onnx", models / "dlib_resnet_v1.onnx")
    with (models / "dlib_resnet_v1.onnx").open("r+b") as handle:
        handle.seek(5000)
        handle.write(b"\xff\xff\xff\xff")
    build_engine(EngineConfig(models_dir=models))
    assert sha256_of(models / "dlib_resnet_v1.onnx") == CONVERTED.sha256


def test_an_unknown_source_file_is_refused(tmp_path: Path) -> None:
    data = bytearray(locate(SOURCE, tmp_path).read_bytes())
    data[-100] ^= 0x01  # one weight changed: same format, another network
    source = tmp_path / "dlib_face_recognition_resnet_model_v1.dat"
    source.write_bytes(bytes(data))
    with pytest.raises(ModelChecksumError, match="refusing to convert"):
        convert(source, SOURCE, tmp_path / "out.onnx")
    assert not (tmp_path / "out.onnx").exists()
    assert list(tmp_path.glob("*.partial")) == []


def test_the_reader_refuses_other_networks_and_truncated_files(tmp_path: Path) -> None:
    data = locate(SOURCE, tmp_path).read_bytes()
    with pytest.raises(DatFormatError, match=r"end of the \.dat file|past the end"):
        read_dat(data[: len(data) // 2])
    with pytest.raises(DatFormatError, match="loss layer"):
        read_dat(data.replace(b"loss_metric_2", b"loss_metric_3", 1))
    net = read_dat(data)
    params = sum(
        v.size for layer in net.layers for v in layer.params.values() if hasattr(v, "size")
    )
    assert 5_500_000 < params < 5_700_000


def test_parity_with_dlib_on_real_faces(converted_dir: Path) -> None:
    """max |ONNX - dlib.compute_face_descriptor| <= 1e-5 on dlib's own aligned chips."""
    dlib = pytest.importorskip("dlib")
    need_shared(LFW)
    engine = build_engine(EngineConfig(models_dir=converted_dir))
    embedder = engine.embedder
    assert isinstance(embedder, DlibOnnxEmbedder)
    reference = dlib.face_recognition_model_v1(str(locate(SOURCE, converted_dir)))
    worst, compared = 0.0, 0
    for _, path in list_dataset(LFW)[::71][:24]:
        frame = read_image(path)
        face = subject_face(engine.detect(frame), frame.shape[1], frame.shape[0])
        if face is None:
            continue
        chip = embedder.chip(bgr_to_rgb(frame), face)
        ours = embedder.descriptors([chip, np.ascontiguousarray(chip[:, ::-1])])
        for row, image in zip(ours, (chip, np.ascontiguousarray(chip[:, ::-1])), strict=True):
            theirs = np.array(reference.compute_face_descriptor(image))
            worst = max(worst, float(np.abs(row - theirs).max()))
            compared += 1
    assert compared >= 40
    assert worst <= 1e-5


def test_embeddings_match_the_dlib_runtime_embedder(converted_dir: Path) -> None:
    pytest.importorskip("dlib")
    need_shared(LFW)
    fast = build_engine(preset_config("default", converted_dir))
    slow = build_engine(preset_config("dlib", converted_dir))
    for _, path in list_dataset(LFW)[::401][:4]:
        frame = read_image(path)
        face = subject_face(fast.detect(frame), frame.shape[1], frame.shape[0])
        assert face is not None
        a, b = fast.embed(frame, face), slow.embed(frame, face)
        assert a.shape == (128,)
        assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
        assert float(a @ b) > 1 - 1e-6


def test_the_edge_converts_into_its_data_dir_unless_told_otherwise(tmp_path: Path) -> None:
    from edge_agent.config import EdgeConfig

    base = {"edge_id": "e1", "compound_id": "c1", "data_dir": str(tmp_path)}
    assert EdgeConfig.model_validate(base).engine.models_dir == tmp_path / "models"
    named = {**base, "engine": {"models_dir": str(tmp_path / "elsewhere")}}
    assert EdgeConfig.model_validate(named).engine.models_dir == tmp_path / "elsewhere"


def test_an_unwritable_models_dir_is_a_model_error(tmp_path: Path) -> None:
    """A typed error, so the edge reports face recognition off and the gates run on cards."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(ModelError, match="cannot write the converted network"):
        build_engine(EngineConfig(models_dir=blocker / "models"))
