"""Archives: batched colorization with decode/write threads, split across processes by torchrun, resumable."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from colorize_hub import ColorizationImageProcessor, colorize
from colorize_hub.errors import ColorizationError
from colorize_hub.media.batch import plan, run_jobs
from colorize_hub.media.batch_pipeline import process_rank, shard
from conftest import build_tiny

PHOTOS = 13  # odd, so the two processes' shares differ by one


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("colorizer-cunet-tiny")
    build_tiny("colorizer-cunet", seed=2).eval().save_pretrained(folder)
    ColorizationImageProcessor(render_size=64).save_pretrained(folder)
    return str(folder)


@pytest.fixture
def archive(tmp_path):
    """PHOTOS gray photos of different sizes in nested folders, and one file that is not an image."""
    rng = np.random.default_rng(0)
    for index in range(PHOTOS):
        folder = tmp_path / "archive" / f"box{index % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        size = (40 + 7 * index, 30 + 5 * (index % 4))
        Image.fromarray(rng.integers(0, 255, size[::-1], dtype=np.uint8), "L").save(folder / f"p{index:02d}.png")
    (tmp_path / "archive" / "box0" / "broken.png").write_bytes(b"not a png")
    return tmp_path


def test_batched_run_gives_what_colorize_gives_photo_by_photo(archive, model_folder):
    jobs, problems = plan([str(archive / "archive")], archive / "out")
    assert not problems and len(jobs) == PHOTOS + 1
    report = run_jobs(jobs, model_folder, batch_size=4, workers=2, progress=False)
    assert len(report.done) == PHOTOS and [source.name for source, _ in report.failed] == ["broken.png"]
    assert report.seconds > 0 and "photos/s" in report.summary()
    for job in jobs:
        if job.source.name != "broken.png":
            expected = np.asarray(colorize(job.source, model=model_folder))
            assert np.array_equal(np.asarray(Image.open(job.output)), expected), job.source


def test_shards_cover_every_job_once():
    jobs = list(range(PHOTOS))
    shares = [shard(jobs, rank, 3) for rank in range(3)]
    assert sorted(sum(shares, [])) == jobs and [len(share) for share in shares] == [5, 4, 4]


def test_process_rank_reads_torchrun_environment(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert process_rank() == (0, 1)
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert process_rank() == (1, 2)
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ColorizationError, match="WORLD_SIZE=2"):
        process_rank()


def test_torchrun_splits_the_archive_across_two_processes_and_resumes(archive, model_folder):
    """Two CPU processes under torchrun: every photo once, none twice; outputs of an earlier, interrupted run are
    kept, not redone."""
    out = archive / "out"
    earlier = sorted((archive / "archive").rglob("p0[0-2].png"))  # an interrupted run had finished these three
    for photo in earlier:
        target = out / photo.parent.name / f"{photo.stem}_color.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        colorize(photo, model=model_folder).save(target)
    stamps = {path: path.stat().st_mtime_ns for path in out.rglob("*_color.png")}
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "colorize_hub.cli", "colorize", str(archive / "archive"), "-o", str(out), "--model",
               model_folder, "-q", "--batch-size", "3"]
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    counts = {int(m[0]): (int(m[1]), int(m[2]), int(m[3])) for m in re.findall(
        r"process (\d) of 2: (\d+) colorized, (\d+) skipped, (\d+) failed", finished.stdout)}
    assert sorted(counts) == [1, 2], finished.stdout + finished.stderr
    assert sum(done for done, _, _ in counts.values()) == PHOTOS - len(earlier)  # the new outputs, each once
    assert sum(skipped for _, skipped, _ in counts.values()) == len(earlier)
    assert sum(failed for _, _, failed in counts.values()) == 1  # broken.png, reported by the one process it fell to
    outputs = sorted(path.name for path in out.rglob("*_color.png"))
    assert outputs == sorted(f"p{index:02d}_color.png" for index in range(PHOTOS))
    assert all(path.stat().st_mtime_ns == stamp for path, stamp in stamps.items())  # kept, not rewritten
    assert not list(out.rglob("*.partial"))
