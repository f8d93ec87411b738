"""Open-set thresholds that follow the gallery's size, and the impostor-curve estimate."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from edge_agent.gallery.calibration import impostor_curve, track_comparisons
from edge_agent.gallery.gallery import Gallery
from edge_agent.gallery.selfcheck import self_check
from edge_agent.gallery.thresholds import accept_for, fpir_of, p_at, p_for, threshold_for
from edge_agent.vision import build_engine
from edge_agent.vision.config import EngineConfig
from edge_agent.vision.models import ImpostorCurve, Thresholds, load_manifest

CURVE = ImpostorCurve(
    scores=[0.90, 0.95, 0.97],
    log10_p=[-1.0, -4.0, -6.0],
    log10_p_upper=[-0.8, -3.5, -5.2],
    templates=3,
    fused=3,
    comparisons=300_000,
)


def test_fpir_grows_with_gallery_size() -> None:
    assert fpir_of(1e-5, 1000) == pytest.approx(1 - (1 - 1e-5) ** 1000)
    assert fpir_of(1e-5, 1000) == pytest.approx(0.00995, rel=1e-3)
    assert fpir_of(0.0, 10) == 0.0
    for n in (1, 53, 2500):
        assert fpir_of(p_for(1e-3, n), n) == pytest.approx(1e-3, rel=1e-9)


def test_threshold_rises_with_residents_and_meets_the_target() -> None:
    sizes = [1, 10, 100, 1000, 10_000]
    thresholds = [threshold_for(CURVE, n, 1e-3) for n in sizes]
    assert thresholds == sorted(thresholds)
    assert thresholds[0] < thresholds[-1]
    for n, t in zip(sizes, thresholds, strict=True):
        assert fpir_of(p_at(CURVE, t), n) == pytest.approx(1e-3, rel=1e-6)
    # Interpolation is linear in log10 p; beyond the last point, the last slope.
    assert math.log10(p_at(CURVE, 0.925)) == pytest.approx(-2.5)
    assert math.log10(p_at(CURVE, 0.98)) == pytest.approx(-7.0)
    assert p_at(CURVE, 0.5) == pytest.approx(0.1)


def test_curve_must_be_monotone() -> None:
    with pytest.raises(ValueError, match="must not rise"):
        ImpostorCurve(scores=[0.9, 0.95], log10_p=[-3, -2], templates=1, fused=1, comparisons=1)
    with pytest.raises(ValueError, match="ascend"):
        ImpostorCurve(scores=[0.95, 0.9], log10_p=[-2, -3], templates=1, fused=1, comparisons=1)


def _unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = (v / np.linalg.norm(v)).astype(np.float32)
    return out


def test_gallery_threshold_follows_its_number_of_residents() -> None:
    """One probe at cosine 0.955 to a resident: accepted among 3 residents, not among 300."""
    thresholds = Thresholds(fpir=1e-3, accept=0.95, margin=0.0, impostor=CURVE)
    rng = np.random.default_rng(1)
    dim = 128
    target = _unit(rng.normal(size=dim))
    noise = rng.normal(size=dim)
    noise = _unit(noise - (noise @ target) * target)
    probe = _unit(0.955 * target + math.sqrt(1 - 0.955**2) * noise)
    small = Gallery(dim, "test")
    small.add_templates("R0", "H", "C", [target])
    for i in range(1, 3):
        small.add_templates(f"R{i}", "H", "C", [_unit(rng.normal(size=dim))])
    assert accept_for(thresholds, 3) < 0.955 < accept_for(thresholds, 300)
    assert small.identify(probe, thresholds).resident_id == "R0"
    large = Gallery(dim, "test")
    large.add_templates("R0", "H", "C", [target])
    for i in range(1, 300):
        large.add_templates(f"R{i}", "H", "C", [_unit(rng.normal(size=dim))])
    result = large.identify(probe, thresholds)
    assert result.reason == "below_threshold"
    # Without a curve the fixed threshold applies whatever the size.
    fixed = Thresholds(fpir=1e-3, accept=0.95, margin=0.0)
    assert large.identify(probe, fixed).resident_id == "R0"


def test_curve_estimate_matches_the_comparisons_it_counts() -> None:
    """Synthetic identities: the measured part of the curve is the empirical rate; the upper
    bound lies above the estimate; both fall with the threshold."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(60, 32))
    labels = np.repeat(np.arange(60), 12)
    vectors = centres[labels] + 0.9 * rng.normal(size=(len(labels), 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    grid = np.round(np.arange(-0.2, 1.0 + 1e-9, 0.05), 4)
    comparisons = track_comparisons(vectors, labels, seeds=(0, 1), grid=grid)
    assert comparisons.comparisons == 2 * 60 * 59 * 3
    assert len(comparisons.genuine) == 2 * 60 * 3
    estimate = impostor_curve(comparisons, boots=50)
    curve = estimate.curve
    assert curve.log10_p_upper is not None
    for t, logp, upper in zip(curve.scores, curve.log10_p, curve.log10_p_upper, strict=True):
        measured = comparisons.empirical(t)
        if measured * comparisons.comparisons >= 30:
            assert logp == pytest.approx(math.log10(measured), abs=2e-3)
        assert upper >= logp - 1e-9
    assert curve.log10_p == sorted(curve.log10_p, reverse=True)
    # Genuine tracks score above impostors: FNIR is low where p is small.
    t = threshold_for(curve, 10, 1e-2)
    assert comparisons.fnir(t) < 0.5


def test_the_default_engine_ships_a_curve_and_takes_a_target_fpir(tmp_path: Path) -> None:
    spec = load_manifest().by_name("dlib_resnet_v1_onnx")
    assert spec.thresholds is not None
    assert spec.thresholds.impostor is not None
    assert spec.thresholds.impostor.comparisons > 100_000
    engine = build_engine(EngineConfig(models_dir=tmp_path, target_fpir=1e-2))
    loose = engine.embedder.thresholds
    assert loose is not None
    assert loose.fpir == 1e-2
    strict = build_engine(EngineConfig(models_dir=tmp_path, strict_thresholds=True))
    tight = strict.embedder.thresholds
    assert tight is not None
    assert accept_for(tight, 1000) > accept_for(spec.thresholds, 1000) > accept_for(loose, 1000)


def test_self_check_counts_impostors_and_genuine_templates() -> None:
    rng = np.random.default_rng(5)
    dim = 64
    gallery = Gallery(dim, "test")
    for i in range(20):
        centre = _unit(rng.normal(size=dim))
        templates = [_unit(centre + 0.02 * rng.normal(size=dim)) for _ in range(3)]
        gallery.add_templates(f"R{i}", "H", "C", templates)
    twin = gallery.template_vectors("R0")  # a look-alike of R0 among the strangers
    thresholds = Thresholds(fpir=1e-3, accept=0.9, margin=0.0, impostor=CURVE)
    check = self_check(gallery, [_unit(np.mean(twin, axis=0))], thresholds)
    assert check.residents == 20
    assert check.impostor_comparisons == 20 * 19 + 20
    assert check.impostor_above == 1  # only the look-alike stranger
    assert check.p_upper > check.p_measured == pytest.approx(1 / 400)
    assert check.genuine_comparisons == 60
    assert check.genuine_below < 0.2
    assert "ABOVE" in check.verdict
    empty = self_check(Gallery(dim, "test"), [], thresholds)
    assert empty.verdict == "too few residents to check"


def test_calibrate_command_reports_on_the_edges_own_stores(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    import yaml

    key = tmp_path / "gallery.key"
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "edge_id": "e1",
                "compound_id": "c1",
                "data_dir": str(tmp_path / "data"),
                "gallery": {"key_file": str(key)},
                "engine": {"models_dir": str(tmp_path / "models")},
            }
        )
    )
    run = [sys.executable, "-m", "edge_agent"]
    subprocess.run([*run, "gallery", "new-key", str(key)], check=True, capture_output=True)
    report = tmp_path / "report.json"
    done = subprocess.run(
        [*run, "calibrate", "--config", str(config), "--report", str(report)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(report.read_text())
    assert result["residents"] == 0
    assert result["verdict"] == "too few residents to check"
