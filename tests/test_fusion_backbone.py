"""The fusion model's ImageNet backbone: offline weights really work and survive init and save/load."""

import numpy as np
import pytest
import timm
import torch
from PIL import Image
from skimage import data
from transformers import AutoModel

import colorize_hub
from colorize_hub.models.backbones import load_backbone_imagenet_weights

CAT_CLASSES = set(range(281, 286))  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


def _chelsea_batch(size=224):
    image = Image.fromarray(data.chelsea()).resize((size, size), Image.BICUBIC)
    pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).float() / 255
    return ((pixels - 0.5) / 0.5)[None]  # EfficientNet-Lite: mean = std = 0.5


def test_offline_weights_recognise_a_cat():
    classifier = timm.create_model("tf_efficientnet_lite0").eval()
    assert load_backbone_imagenet_weights(classifier, "tf_efficientnet_lite0", source="package") == "package"
    with torch.no_grad():
        top5 = classifier(_chelsea_batch()).topk(5).indices[0].tolist()
    assert CAT_CLASSES & set(top5), top5


def test_unknown_backbone_without_network_says_so(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backbone = timm.create_model("test_efficientnet", num_classes=0)
    with pytest.raises(RuntimeError, match="No ImageNet weights"):
        load_backbone_imagenet_weights(backbone, "test_efficientnet")


def test_hub_source_is_tried_first_when_online(monkeypatch):
    created = []

    def fake_create_model(name, pretrained=False, **kwargs):
        created.append((name, pretrained))
        model = timm.models.create_model(name, pretrained=False, **kwargs)
        return model

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("colorize_hub.models.backbones.timm.create_model", fake_create_model)
    backbone = timm.models.create_model("test_efficientnet", num_classes=0)
    assert load_backbone_imagenet_weights(backbone, "test_efficientnet") == "hub"
    assert created == [("test_efficientnet", True)]


def test_loaded_backbone_weights_survive_init_and_save_load(tmp_path):
    model = colorize_hub.ColorizerFusionForColorization(colorize_hub.ColorizerFusionConfig())
    load_backbone_imagenet_weights(model.backbone, "tf_efficientnet_lite0", source="package")
    expected = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    model.init_weights()  # transformers' own re-initialisation must leave the backbone alone
    assert all(torch.equal(v, expected[k]) for k, v in model.backbone.state_dict().items())
    model.save_pretrained(tmp_path)
    reloaded = AutoModel.from_pretrained(tmp_path)
    assert all(torch.equal(v, expected[k]) for k, v in reloaded.backbone.state_dict().items())


def test_frozen_backbone_stays_in_eval_mode():
    model = colorize_hub.ColorizerFusionForColorization(
        colorize_hub.ColorizerFusionConfig(backbone="test_efficientnet", encoder_hidden_sizes=[8, 16], fusion_size=8)
    )
    model.backbone.requires_grad_(False)
    model.train()
    assert model.encoder.training and not model.backbone.training
    model.backbone.requires_grad_(True)
    assert model.train().backbone.training
