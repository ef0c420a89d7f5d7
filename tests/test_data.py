"""Training data: lazy folders, weighted mixes of folders, evenly spread eval subsets, small photos upscaled."""

import json
import pickle
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from colorize_hub.training import data, train
from colorize_hub.errors import ColorizationError
from conftest import TINY_CONFIGS

RED, BLUE = (200, 30, 30), (30, 40, 200)


def make_folder(folder, count, colour, size=48, classes=("x",)):
    """`count` noisy photos of one colour per class subfolder (sorted names class/000.jpg ...)."""
    rng = np.random.default_rng(count)
    for name in classes:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = np.clip(np.array(colour) + rng.integers(-20, 20, (size, size, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / name / f"{i:03d}.jpg")
    return folder


def is_blue(inputs) -> torch.Tensor:
    """Per item of a batch (or one item): True where the photo is blue (negative b), False where red."""
    return inputs["labels"][..., 1, :, :].mean(dim=(-1, -2)) < 0


@pytest.fixture()
def red_and_blue(tmp_path):
    return make_folder(tmp_path / "red", 6, RED), make_folder(tmp_path / "blue", 4, BLUE)


def test_a_weighted_mix_draws_each_folder_in_its_share(red_and_blue):
    red, blue = red_and_blue
    mix = data.load_training_mix([str(red), str(blue)], [0.25, 0.75], 32, train=True)
    # one epoch covers every photo at least once; blue (4 photos, 75%) then repeats: 6 red + 18 blue
    located = [mix.locate(i) for i in range(len(mix))]
    assert len(mix) == 24 and sum(source == 1 for source, _ in located) == 18
    assert {item for source, item in located if source == 0} == set(range(6))
    assert {item for source, item in located if source == 1} == set(range(4))
    # through a shuffling DataLoader, as Trainer reads it: the pixels say which folder each item came from
    torch.manual_seed(0)
    batches = DataLoader(mix, batch_size=8, shuffle=True)
    blue_share = torch.cat([is_blue(batch) for batch in batches]).float().mean().item()
    assert blue_share == pytest.approx(0.75, abs=0.01)  # a plain concatenation would give 0.4


def test_without_weights_a_mix_is_a_concatenation(red_and_blue):
    red, blue = red_and_blue
    mix = data.load_training_mix([str(red), str(blue)], None, 32, train=True)
    assert len(mix) == 10 and mix.quotas == [6, 4]
    assert not is_blue(mix[5]) and is_blue(mix[6])
    with pytest.raises(IndexError):
        mix[10]
    with pytest.raises(ColorizationError, match="2 training sources but 1 weights"):
        data.load_training_mix([str(red), str(blue)], [1.0], 32, train=True)


def test_a_lazy_folder_keeps_nothing_in_memory(red_and_blue, monkeypatch):
    red, _ = red_and_blue
    monkeypatch.setattr(data, "CACHE_MAX_IMAGES", 2)  # 6 photos: a "large" folder
    lazy, cached = data.ColorizationImageFolder(red, 32), data.ColorizationImageFolder(red, 32, cache=True)
    sizes_before = len(pickle.dumps(lazy)), len(pickle.dumps(cached))
    for index in range(len(lazy)):
        assert lazy[index]["pixel_values"].shape == cached[index]["pixel_values"].shape == (1, 32, 32)
    assert lazy.cache is None and all(isinstance(path, str) for path in lazy.files)
    assert len(pickle.dumps(lazy)) == sizes_before[0]  # what a worker process receives did not grow
    assert len(pickle.dumps(cached)) > sizes_before[1] + 6 * 3 * 48 * 48  # the cache holds every decoded photo


def test_max_images_takes_an_evenly_spread_subset(tmp_path):
    folder = make_folder(tmp_path / "classes", 4, RED, size=16, classes=("a", "b", "c"))
    subset = data.load_training_data(str(folder), 16, train=False, max_images=3)
    assert [path.split("/")[-2:] for path in subset.files] == [["a", "000.jpg"], ["b", "000.jpg"], ["c", "000.jpg"]]
    assert data.evenly_spread(5, 3) == [0, 1, 2] and data.evenly_spread(2, 7) == [0, 3]


def test_a_small_photo_is_upscaled_to_the_crop_size(tmp_path):
    folder = make_folder(tmp_path / "tiny", 2, BLUE, size=64)
    for is_training in (True, False):
        inputs = data.ColorizationImageFolder(folder, 128, train=is_training)[0]
        assert inputs["pixel_values"].shape == (1, 128, 128) and inputs["labels"].shape == (2, 128, 128)


def test_several_training_sources_and_weights_parse():
    flags = ["--model", "colorizer-baseline", "--output_dir", "unused", "--train_data", "A", "imagefolder:B",
             "--train_weights", "0.6", "0.4"]
    _, data_args, _ = train.parse_arguments(flags)
    assert data_args.train_data == ["A", "imagefolder:B"] and data_args.train_weights == [0.6, 0.4]
    _, data_args, _ = train.parse_arguments(flags[:4] + ["--train_data", "A"])
    assert data_args.train_data == ["A"] and data_args.train_weights is None


def run(output_dir, train_data, *extra):
    argv = ["--model", "colorizer-baseline", "--config_overrides", json.dumps(TINY_CONFIGS["colorizer-baseline"]),
            "--train_data", *map(str, train_data), "--image_size", "32", "--output_dir", str(output_dir),
            "--per_device_train_batch_size", "4", "--use_cpu", "--report_to", "none", "--seed", "3",
            "--disable_tqdm", "true", *extra]
    return train.main(argv)


def test_a_single_folder_trains_as_before(red_and_blue, tmp_path):
    red, _ = red_and_blue
    summary = run(tmp_path / "out", [red], "--max_steps", "1", "--save_strategy", "no")
    assert summary["steps"] == 1 and summary["train_data"] == str(red) and summary["train_images"] == 6
    assert "train_weights" not in summary


def test_a_mix_trains_with_a_worker_process(red_and_blue, tmp_path):
    summary = run(tmp_path, red_and_blue, "--train_weights", "1", "3", "--max_steps", "2", "--save_strategy", "no",
                  "--dataloader_num_workers", "1")
    assert summary["steps"] == 2 and summary["train_weights"] == [0.25, 0.75] and summary["train_images"] == 10
    assert summary["train_data"] == " + ".join(map(str, red_and_blue))


def test_a_resumed_mix_reads_the_photos_the_uninterrupted_run_reads(red_and_blue, tmp_path, monkeypatch):
    """Resuming in mid-epoch (the usual case for a large mix) continues the same sequence of (folder, photo)."""
    read = []
    original = data.WeightedMix.locate
    monkeypatch.setattr(data.WeightedMix, "locate", lambda mix, index: read.append(original(mix, index)) or read[-1])
    common = ["--train_weights", "0.25", "0.75", "--max_steps", "4", "--save_steps", "2"]  # 6 steps an epoch
    run(tmp_path / "straight", red_and_blue, *common)
    straight = read.copy()
    read.clear()
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copytree(tmp_path / "straight" / "checkpoint-2", resumed / "checkpoint-2")
    run(resumed, red_and_blue, *common, "--resume_from_checkpoint", str(resumed / "checkpoint-2"))
    assert len(read) >= 8 and read == straight[8:]  # 2 steps of 4 photos done before the checkpoint
    assert {source for source, _ in read} == {0, 1}
