"""`make demo` starts everything, shows messages flowing, and Ctrl-C stops it all cleanly."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_demo_runs_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "scripts/demo.py", "--duration", "0", "--workdir", str(tmp_path / "d")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        seen = "".join(lines)
        if "[timeline] hub has stored" in seen and "is online" in seen:
            break
    else:
        proc.kill()
        raise AssertionError("demo showed no events:\n" + "".join(lines))
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    text = "".join(lines) + out
    assert proc.returncode == 0, text
    assert "is online" in text
    assert "all processes stopped cleanly" in text
    assert "Traceback" not in text
    # Nothing the demo started is left running.
    leftovers = subprocess.run(
        ["pgrep", "-f", str(tmp_path / "d")], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout.strip() == ""


@pytest.mark.slow
def test_demo_closes_the_loop(tmp_path: Path) -> None:
    """Alerts become tasks, pushes reach the phones, outcomes go back to the edge as roster
    updates that the edge acknowledges; everything exits 0."""
    result = subprocess.run(
        # --duration 1: the pages stay up one second after the replay (a person would browse)
        [sys.executable, "scripts/demo.py", "--duration", "1", "--workdir", str(tmp_path / "d")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    text = result.stdout + result.stderr
    assert result.returncode == 0, text[-5000:]
    assert "[demo] web UI: http://127.0.0.1:" in text
    assert "[timeline] ALERT" in text
    assert "[timeline] PUSH to W-" in text
    assert "[timeline] OUTCOME move_out" in text
    assert "invited to enrol with code" in text
    # The replay ran to its end; the bot left tasks for a person and said what to try.
    assert "[demo] replay complete: all 45 simulated days" in text
    left = re.search(r"\[demo\] left for you: (\d+) open tasks", text)
    assert left is not None
    assert int(left.group(1)) >= 1
    assert "未能入户" in text
    summary = re.search(r"roster updates sent (\d+), acknowledged by the edge (\d+)", text)
    assert summary is not None, text[-3000:]
    sent, acked = map(int, summary.groups())
    assert sent >= 3
    assert acked == sent
    assert "Traceback" not in text
    if (REPO.parent / "shared" / "datasets" / "lfw-dev").is_dir():
        # The camera edge: residents enrolled through the hub's invitations, then recognised.
        assert "[timeline] ENROLLED R-GC-1" in text
        assert re.search(r"PASSAGE north in by face: R-GC-\d -> grant", text)
        assert "by face: stranger -> deny" in text


@pytest.mark.slow
def test_demo_stops_everything_when_its_pipe_closes(tmp_path: Path) -> None:
    """`make demo | tee log`, then Ctrl-C: tee is gone, the demo still stops every process."""
    workdir = tmp_path / "d"
    demo = subprocess.Popen(
        [
            sys.executable,
            "scripts/demo.py",
            "--no-faces",
            "--duration",
            "0",
            "--workdir",
            str(workdir),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert demo.stdout is not None
    for _ in range(15):  # read a little, then close our end like a killed tee
        demo.stdout.readline()
    demo.stdout.close()
    assert demo.wait(timeout=90) == 0
    leftovers = subprocess.run(
        ["pgrep", "-f", str(workdir)], capture_output=True, text=True, check=False
    )
    assert leftovers.stdout.strip() == ""
