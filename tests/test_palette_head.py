"""The palette head, checked on every registered architecture (and config variant) that classifies colours."""

import pytest
import torch
from transformers import AutoModel

import colorize_hub
from colorize_hub.models import classifies_colours
from conftest import TINY_VARIANTS, tiny_config


def build_variant(model_type: str, variant: str, **overrides):
    record = colorize_hub.MODEL_REGISTRY[model_type]
    torch.manual_seed(0)
    return record.model_class(record.config_class(**{**tiny_config(model_type, variant), **overrides}))


PALETTE_VARIANTS = [pair for pair in TINY_VARIANTS if classifies_colours(build_variant(*pair))]


def test_the_registry_has_colour_classifiers_and_the_others_have_no_palette():
    assert len(PALETTE_VARIANTS) >= 2  # the U-Net-24 and the fusion model's palette head
    for pair in TINY_VARIANTS:
        model = build_variant(*pair)
        assert classifies_colours(model) == ("palette" in dict(model.named_buffers())), pair


@pytest.fixture(params=PALETTE_VARIANTS, ids=lambda pair: "-".join(pair))
def palette_variant(request):
    return request.param


def test_logits_and_loss(palette_variant):
    model = build_variant(*palette_variant).eval()
    pixel_values = torch.rand(2, 1, 40, 36) * 2 - 1
    output = model(pixel_values, labels=torch.rand(2, 2, 40, 36) - 0.5)
    assert output.logits.shape == (2, len(model.config.palette), 40, 36)
    assert torch.isfinite(output.loss)
    torch.testing.assert_close(output.predicted_ab, model.decode(output.logits))


def test_annealed_mean_decodes_a_certain_pixel_to_its_palette_colour(palette_variant):
    model = build_variant(*palette_variant).eval()
    logits = torch.full((1, len(model.config.palette), 2, 2), -20.0)
    logits[0, 5] = 20.0  # certain of colour 5 everywhere
    torch.testing.assert_close(model.decode(logits), model.palette[5].view(1, 2, 1, 1).expand(1, 2, 2, 2),
                               rtol=0, atol=1e-5)
    labels = model.palette[[3, 7]].T.reshape(1, 2, 2, 1)  # two pixels exactly on colours 3 and 7
    assert model.nearest_color(labels).flatten().tolist() == [3, 7]


def test_a_lower_temperature_gives_more_chroma(palette_variant):
    model = build_variant(*palette_variant).eval()
    logits = torch.randn(1, len(model.config.palette), 4, 4) * 3
    chroma = []
    for temperature in (1.0, 0.38):
        model.config.annealed_temperature = temperature
        chroma.append(model.decode(logits).norm(dim=1).mean().item())
    assert chroma[1] > chroma[0]


def test_rebalancing_makes_a_mistake_on_a_rare_colour_cost_more(palette_variant):
    """Two pixels, one on a common colour (weight 1), one on a rare one (weight 10): with rebalancing, getting the
    rare pixel wrong costs more than getting the common one wrong; with unit weights both mistakes cost the same."""
    colours = len(tiny_config(*palette_variant).get("palette") or colorize_hub.models.palette_head.DEFAULT_PALETTE)
    weights = [1.0] * colours
    weights[9] = 10.0
    unit, rebalanced = build_variant(*palette_variant), build_variant(*palette_variant, class_weights=weights)
    labels = unit.palette[[0, 9]].T.reshape(1, 2, 1, 2)  # pixel 0 on colour 0 (common), pixel 1 on colour 9 (rare)
    sure = torch.full((1, colours, 1, 2), -10.0)
    rare_wrong, common_wrong = sure.clone(), sure.clone()
    rare_wrong[0, 0, 0, :] = 10.0  # predicts colour 0 at both pixels: right on the common one only
    common_wrong[0, 9, 0, :] = 10.0  # predicts colour 9 at both pixels: right on the rare one only
    assert unit.palette_loss(rare_wrong, labels) == pytest.approx(unit.palette_loss(common_wrong, labels).item())
    assert rebalanced.palette_loss(rare_wrong, labels) > 5 * rebalanced.palette_loss(common_wrong, labels)


def test_palette_and_temperature_round_trip(palette_variant, tmp_path):
    model = build_variant(*palette_variant, annealed_temperature=0.5).eval()
    model.save_pretrained(tmp_path)
    reloaded = AutoModel.from_pretrained(tmp_path).eval()
    assert reloaded.config.annealed_temperature == 0.5 and classifies_colours(reloaded)
    torch.testing.assert_close(reloaded.palette, model.palette, rtol=0, atol=0)
    torch.testing.assert_close(reloaded.class_weights, model.class_weights, rtol=0, atol=0)
    pixel_values = torch.rand(2, 1, 40, 36) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(reloaded(pixel_values).predicted_ab, model(pixel_values).predicted_ab,
                                   rtol=0, atol=1e-6)


def test_a_fusion_config_without_the_palette_head_has_no_palette():
    regression = colorize_hub.ColorizerFusionConfig(**tiny_config("colorizer-fusion"))
    assert regression.palette is None and regression.annealed_temperature is None and regression.num_colors == 0
