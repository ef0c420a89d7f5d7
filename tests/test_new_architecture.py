"""Adding an architecture takes a config, a model and one registry call: a throwaway seventh architecture, defined
here and nowhere else, trains, evaluates, saves and reloads through the same commands as the bundled ones."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from skimage import data
from torch import nn
from transformers import PreTrainedConfig, PreTrainedModel

import colorize_hub
from colorize_hub.evaluation import evaluate
from colorize_hub.loading import load_colorizer
from colorize_hub.models import MODEL_REGISTRY, Architecture, ColorizationOutput, register_architecture
from colorize_hub.training import train

TOY_TYPE = "colorizer-toy-for-tests"


class ToyConfig(PreTrainedConfig):
    """Two 3x3 convolutions from L to ab."""

    model_type = TOY_TYPE

    def __init__(self, hidden_size=8, **kwargs):
        self.hidden_size = hidden_size
        super().__init__(**kwargs)


class ToyForColorization(PreTrainedModel):
    config_class = ToyConfig
    base_model_prefix = "toy"
    main_input_name = "pixel_values"

    def __init__(self, config: ToyConfig):
        super().__init__(config)
        self.hidden = nn.Sequential(nn.Conv2d(1, config.hidden_size, 3, padding=1), nn.BatchNorm2d(config.hidden_size),
                                    nn.ReLU())
        self.head = nn.Conv2d(config.hidden_size, 2, 3, padding=1)
        self.post_init()

    def forward(self, pixel_values, labels=None):
        predicted_ab = torch.tanh(self.head(self.hidden(pixel_values)))
        loss = F.l1_loss(predicted_ab, labels) if labels is not None else None
        return ColorizationOutput(loss=loss, predicted_ab=predicted_ab)


@pytest.fixture
def toy_architecture():
    record = register_architecture(Architecture(ToyConfig, ToyForColorization, "toy two-conv colorizer",
                                                "A toy colorizer for tests.", tiny_configs={"default": {}}))
    yield record
    del MODEL_REGISTRY[TOY_TYPE]


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("astronaut", "coffee", "chelsea"):
        Image.fromarray(getattr(data, name)()).resize((64, 48)).save(folder / f"{name}.png")
    return folder


def test_a_seventh_architecture_trains_evaluates_saves_and_reloads(toy_architecture, photos, tmp_path):
    run = tmp_path / "run"
    summary = train.main([
        "--model", TOY_TYPE, "--config_overrides", json.dumps(toy_architecture.tiny_configs["default"]),
        "--train_data", str(photos), "--eval_data", str(photos), "--image_size", "32", "--eval_image_size", "32",
        "--output_dir", str(run), "--max_steps", "1", "--per_device_train_batch_size", "2", "--use_cpu",
        "--report_to", "none", "--disable_tqdm", "true",
    ])
    assert summary["steps"] == 1 and "eval_psnr" in summary["eval_metrics"]
    assert "A toy colorizer for tests." in (run / "README.md").read_text()  # the card reads the record

    model, processor = load_colorizer(str(run))
    assert isinstance(model, ToyForColorization)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # folded like the others
    photo = photos / "coffee.png"
    first = np.asarray(colorize_hub.colorize(str(photo), model=str(run)))
    assert first.shape == (48, 64, 3)

    out = tmp_path / "evaluation"
    assert evaluate.main(["--models", str(run), "--data", str(photos), "--out", str(out)]) == 0
    results = json.loads((out / "metrics.json").read_text())["results"]
    assert str(run) in results and results[str(run)]["images"] == 3
