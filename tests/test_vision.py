"""The face engine on real photos and real models (shared fixtures), plus its typed errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge_agent.vision import build_engine
from edge_agent.vision.align import ARCFACE_TEMPLATE, similarity_transform
from edge_agent.vision.config import EngineConfig
from edge_agent.vision.errors import (
    EmptyFrameError,
    FrameLayoutError,
    ModelChecksumError,
    ModelShapeError,
    UnknownModelError,
    UnreadableImageError,
)
from edge_agent.vision.models import import_model, load_manifest, locate
from edge_agent.vision.quality import QualityConfig, assess
from edge_agent.vision.tracking import EntryLine, Sample, Tracker
from edge_agent.vision.types import Face, check_frame, read_image
from gridgate_devkit.evaluation import list_dataset, subject_face
from gridgate_devkit.presets import preset_config
from gridgate_wire import PassageDirection
from tests.conftest import LFW, SHARED_MODELS, need_shared


def lfw_sample(count: int, stride: int = 97) -> list[tuple[str, Path]]:
    need_shared(LFW)
    items = list_dataset(LFW)
    return items[::stride][:count]


# ------------------------------------------------------------------ models and errors


def test_import_refuses_unknown_and_mismatched_files(tmp_path: Path) -> None:
    need_shared(SHARED_MODELS)
    stranger = tmp_path / "mystery.onnx"
    stranger.write_bytes(b"not a model")
    with pytest.raises(UnknownModelError, match="not in the model manifest"):
        import_model(stranger, tmp_path / "models")
    tampered = tmp_path / "face_detection_yunet_2023mar.onnx"
    data = bytearray((SHARED_MODELS / tampered.name).read_bytes())
    data[1000] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(ModelChecksumError, match="differs from the manifest"):
        import_model(tampered, tmp_path / "models")
    assert not (tmp_path / "models" / tampered.name).exists()


def test_imported_model_is_checked_again_at_load(tmp_path: Path) -> None:
    need_shared(SHARED_MODELS)
    spec = import_model(SHARED_MODELS / "mobilefacenet_128.onnx", tmp_path)
    path = locate(spec, tmp_path)
    with path.open("r+b") as handle:
        handle.seek(500)
        handle.write(b"\x00\x01\x02")
    with pytest.raises(ModelChecksumError):
        locate(spec, tmp_path)
    missing = load_manifest().by_name("scrfd_500m_kps")
    with pytest.raises(UnknownModelError, match="models import"):
        locate(missing, tmp_path / "empty")


def test_cli_models_import(tmp_path: Path) -> None:
    need_shared(SHARED_MODELS)
    from edge_agent.cli import main

    assert (
        main(
            [
                "models",
                "import",
                str(SHARED_MODELS / "mobilefacenet_128.onnx"),
                "--models-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "mobilefacenet_128.onnx").exists()
    bogus = tmp_path / "bogus.onnx"
    bogus.write_bytes(b"x")
    assert main(["models", "import", str(bogus), "--models-dir", str(tmp_path)]) == 2


def test_wrong_model_for_a_plugin_is_a_shape_error(models_dir: Path) -> None:
    config = EngineConfig.model_validate(
        {"detector": {"type": "yunet", "model": "mobilefacenet_128"}, "models_dir": str(models_dir)}
    )
    with pytest.raises(ModelShapeError):
        build_engine(config)
    # An SCRFD file where YuNet is expected: OpenCV cannot decode its outputs.
    copy = models_dir.parent / "swap"
    copy.mkdir(exist_ok=True)
    shutil.copy(models_dir / "mobilefacenet_128.onnx", copy / "mobilefacenet_128.onnx")
    bad = EngineConfig.model_validate(
        {"detector": {"type": "scrfd", "model": "mobilefacenet_128"}, "models_dir": str(copy)}
    )
    with pytest.raises(ModelShapeError):
        build_engine(bad)


def test_frame_errors(tmp_path: Path) -> None:
    with pytest.raises(EmptyFrameError):
        check_frame(np.zeros((0, 0, 3), np.uint8))
    with pytest.raises(FrameLayoutError, match="H x W x 3"):
        check_frame(np.zeros((10, 10), np.uint8))
    with pytest.raises(FrameLayoutError, match="H x W x 3"):
        check_frame(np.zeros((10, 10, 4), np.uint8))
    with pytest.raises(FrameLayoutError, match="uint8"):
        check_frame(np.zeros((10, 10, 3), np.float32))
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(UnreadableImageError):
        read_image(junk)
    with pytest.raises(UnreadableImageError):
        read_image(tmp_path / "absent.jpg")


def test_similarity_transform_recovers_a_known_one() -> None:
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -5.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = ARCFACE_TEMPLATE
    dst = (scale * (rot @ src.T)).T + shift
    matrix = similarity_transform(src, dst)
    mapped = (matrix[:, :2] @ src.T).T + matrix[:, 2]
    assert np.allclose(mapped, dst, atol=1e-6)


# ------------------------------------------------------------------ detectors agree


@pytest.mark.parametrize("preset", ["dlib", "onnx", "scrfd+onnx"])
def test_detectors_find_the_subject_with_sane_landmarks(preset: str, models_dir: Path) -> None:
    engine = build_engine(preset_config(preset, models_dir))
    found = 0
    sample = lfw_sample(20)
    for _, path in sample:
        frame = read_image(path)
        face = subject_face(engine.detect(frame), 250, 250)
        if face is None:
            continue
        found += 1
        lm = face.landmarks
        assert lm.shape == (5, 2)
        x1, _, x2, _ = face.box
        # Eyes above nose above mouth; image-left eye left of image-right eye; inside the box.
        assert lm[0, 0] < lm[1, 0]
        assert max(lm[0, 1], lm[1, 1]) < lm[2, 1] < min(lm[3, 1], lm[4, 1])
        assert x1 - 10 < lm[:, 0].min()
        assert lm[:, 0].max() < x2 + 10
        assert 20 < face.interocular < 90
    assert found >= len(sample) - 1


def test_embeddings_are_unit_vectors_of_the_stated_dimension(models_dir: Path) -> None:
    for preset in ("dlib", "onnx"):
        engine = build_engine(preset_config(preset, models_dir))
        frame = read_image(lfw_sample(1)[0][1])
        face = engine.detect(frame)[0]
        vector = engine.embed(frame, face)
        assert vector.shape == (engine.info.dimension,)
        assert vector.dtype == np.float32
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5
        assert engine.info.metric == "cosine"
        assert len(engine.info.model_sha256) == 64
        many = engine.embed_many(frame, [face, face])
        assert np.allclose(many[0], vector, atol=1e-5)


# ------------------------------------------------------------------ quality


def test_quality_floors_catch_blur_darkness_size_and_pose(models_dir: Path) -> None:
    engine = build_engine(preset_config("onnx", models_dir))
    frame = read_image(lfw_sample(1)[0][1])
    face = subject_face(engine.detect(frame), 250, 250)
    assert face is not None
    config = QualityConfig()
    good = assess(frame, face, config)
    assert good.acceptable, good
    blurred = assess(cv2.GaussianBlur(frame, (0, 0), 4), face, config)
    assert "blurred" in blurred.failures
    assert blurred.score < good.score
    dark = assess((frame * 0.12).astype(np.uint8), face, config)
    assert "badly exposed" in dark.failures
    small_face = face.scaled(0.3)
    small = assess(cv2.resize(frame, (75, 75)), small_face, config)
    assert "too small" in small.failures
    turned = face.landmarks.copy()
    turned[2, 0] = turned[1, 0] + 5  # the nose beyond the far eye: a profile
    profile = assess(frame, Face(face.box, turned, face.score), config)
    assert "turned away" in profile.failures


# ------------------------------------------------------------------ tracking


def _face(x: float, y: float, size: float = 100.0) -> Face:
    lm = np.array(
        [[x + 30, y + 40], [x + 70, y + 40], [x + 50, y + 60], [x + 35, y + 80], [x + 65, y + 80]],
        dtype=np.float32,
    )
    return Face((x, y, x + size, y + size), lm, 0.9)


def test_tracker_follows_two_people_and_knows_direction() -> None:
    line = EntryLine((640, 0), (640, 720), inside=(100, 360))  # the left half is inside
    tracker = Tracker()
    for frame in range(12):
        a = _face(900 - frame * 40, 300)  # walks right to left: crosses into the compound
        b = _face(100 + frame * 5, 300)  # stays outside... inside, left half, barely moving
        tracker.update(frame, [a, b])
    tracks = tracker.flush()
    assert len(tracks) == 2
    walker = max(tracks, key=lambda t: abs(t.last_centre[0] - t.first_centre[0]))
    assert walker.hits == 12
    assert walker.direction(line) is PassageDirection.IN
    other = next(t for t in tracks if t is not walker)
    assert other.direction(line) is PassageDirection.UNKNOWN


def test_tracker_splits_when_someone_else_takes_the_place() -> None:
    tracker = Tracker(appearance_split=0.5)
    first = np.eye(4, dtype=np.float32)[0]
    second = np.eye(4, dtype=np.float32)[1]
    ((track, face),) = tracker.update(0, [_face(100, 100)])
    tracker.add_sample(track, face, Sample(0.9, first, 0))
    ((again, face2),) = tracker.update(3, [_face(105, 100)])  # lost for two frames, same place
    assert again is track
    assert again.recheck
    owner = tracker.add_sample(again, face2, Sample(0.9, second, 3))
    assert owner is not track
    assert [t.track_id for t in tracker.active] == [owner.track_id]


def test_fused_embedding_is_quality_weighted() -> None:
    tracker = Tracker(keep_best=2)
    ((track, face),) = tracker.update(0, [_face(0, 0)])
    good = np.array([1, 0], np.float32)
    bad = np.array([0, 1], np.float32)
    tracker.add_sample(track, face, Sample(0.9, good, 0))
    tracker.add_sample(track, face, Sample(0.1, bad, 1))
    fused = track.fused()
    assert fused is not None
    assert fused[0] > 0.99
    tracker.add_sample(track, face, Sample(0.8, good, 2))  # keeps the best two
    assert [s.quality for s in track.samples] == [0.9, 0.8]


def test_dataset_loader_reads_pgm_and_other_opencv_formats(tmp_path: Path) -> None:
    need_shared(LFW)
    _, source = lfw_sample(1)[0]
    grey = cv2.cvtColor(read_image(source), cv2.COLOR_BGR2GRAY)
    person = tmp_path / "Someone"
    person.mkdir()
    cv2.imwrite(str(person / "a.pgm"), grey)
    cv2.imwrite(str(person / "b.PNG"), grey)
    cv2.imwrite(str(person / "c.bmp"), grey)
    cv2.imwrite(str(person / "d.tif"), grey)
    (person / "notes.txt").write_text("not an image")
    items = list_dataset(tmp_path)
    assert [p.name for _, p in items] == ["a.pgm", "b.PNG", "c.bmp", "d.tif"]
    frame = read_image(person / "a.pgm")
    assert frame.shape == (*grey.shape, 3)
    engine = build_engine(preset_config("default", tmp_path / "models"))
    assert subject_face(engine.detect(frame), frame.shape[1], frame.shape[0]) is not None


def test_yuface_finds_small_faces_that_hog_misses(tmp_path: Path) -> None:
    """A face about 70 px wide in a 1280x720 frame: below HOG's reach at the 640 detection
    width, found by the optional yuface CNN, with landmarks from dlib's 5-point model."""
    pytest.importorskip("yuface")
    need_shared(LFW)
    _, source = lfw_sample(1)[0]
    photo = cv2.resize(read_image(source), (180, 180), interpolation=cv2.INTER_AREA)
    frame = np.full((720, 1280, 3), 110, dtype=np.uint8)
    frame[300:480, 600:780] = photo
    small = build_engine(preset_config("yuface", tmp_path))
    hog = build_engine(preset_config("default", tmp_path))
    assert hog.detect(frame) == []
    faces = small.detect(frame)
    assert len(faces) == 1
    x1, y1, x2, y2 = faces[0].box
    assert 600 <= (x1 + x2) / 2 <= 780
    assert 300 <= (y1 + y2) / 2 <= 480
    assert faces[0].interocular > 15
    assert small.embed(frame, faces[0]).shape == (128,)


def test_motion_crop_finds_the_same_faces_as_the_whole_frame(tmp_path: Path) -> None:
    """Detecting inside the moving region (at the detector's usual scale) gives the same boxes
    as detecting on the whole frame (within the HOG pyramid's grid), and the same passages
    are decided."""
    need_shared(LFW)
    from edge_agent.vision.pipeline import FacePipeline
    from edge_agent.vision.pipeline_config import PipelineConfig
    from edge_agent.vision.tracking import iou
    from gridgate_devkit.sim.gateclip import plan_clip, render

    people = [(name, path) for name, path in lfw_sample(4, stride=211)]
    frames = [f for f, _ in render(plan_clip(people, seed=2, frames_per_passage=8), seed=2)]
    engine = build_engine(preset_config("default", tmp_path))
    cropped = FacePipeline(engine, PipelineConfig(motion_crop=True))
    whole = FacePipeline(engine, PipelineConfig(motion_crop=False))
    compared = 0
    for index, frame in enumerate(frames):
        cropped._quiet(frame)
        region = cropped._region(frame)
        if region is not None and index % 3 == 0:
            a = sorted(f.box for f in cropped._detect(frame))
            b = sorted(f.box for f in engine.detect(frame))
            assert len(a) == len(b)
            for box_a, box_b in zip(a, b, strict=True):
                assert iou(box_a, box_b) >= 0.6  # HOG's pyramid grid moves boxes a little
            compared += len(a)
    assert compared >= 3
    cropped = FacePipeline(engine, PipelineConfig(motion_crop=True))
    decided_a = [d.first_frame for i, f in enumerate(frames) for d in cropped.process(f, i)]
    decided_b = [d.first_frame for i, f in enumerate(frames) for d in whole.process(f, i)]
    assert decided_a + [d.first_frame for d in cropped.flush()] == decided_b + [
        d.first_frame for d in whole.flush()
    ]
