"""One parametrised test suite over every registered architecture (tiny configs), as timm does."""

import json

import pytest
import torch
from transformers import AutoModel

import colorize_hub
from colorize_hub.loading import load_colorizer
from colorize_hub.models import classifies_colours
from colorize_hub.models.palette_head import annealed_mean
from colorize_hub.pipeline import predict_ab
from conftest import TINY_CONFIGS, build_tiny


def test_every_record_has_a_default_tiny_config_and_is_known_to_the_auto_classes():
    for model_type, record in colorize_hub.MODEL_REGISTRY.items():
        assert record.model_type == model_type and "default" in record.tiny_configs
        assert AutoModel._model_mapping[record.config_class] is record.model_class
        assert record.summary and record.description


def test_forward_shapes_and_loss(model_type):
    model = build_tiny(model_type).eval()
    pixel_values = torch.rand(2, 1, 40, 36) * 2 - 1  # not a multiple of any stride: the models pad and crop
    labels = torch.rand(2, 2, 40, 36) - 0.5
    output = model(pixel_values, labels=labels)
    assert output.predicted_ab.shape == (2, 2, 40, 36)
    assert output.predicted_ab.abs().max() <= 1
    assert output.loss.ndim == 0 and torch.isfinite(output.loss)
    assert model(pixel_values).loss is None
    if classifies_colours(model):
        assert output.logits.shape == (2, model.config.num_colors, 40, 36)
    else:
        assert output.logits is None


def test_every_parameter_gets_a_finite_gradient(model_type):
    model = build_tiny(model_type).train()
    output = model(torch.rand(2, 1, 32, 32) * 2 - 1, labels=torch.rand(2, 2, 32, 32) - 0.5)
    output.loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name


def test_save_load_round_trip_gives_identical_outputs(model_type, tmp_path):
    model = build_tiny(model_type).eval()
    pixel_values = torch.rand(1, 1, 32, 48) * 2 - 1
    model.save_pretrained(tmp_path)
    files = {p.name for p in tmp_path.iterdir()}
    assert "model.safetensors" in files and not any(f.endswith((".bin", ".pt", ".pth")) for f in files)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == model_type
    reloaded = AutoModel.from_pretrained(tmp_path).eval()
    assert type(reloaded) is type(model)
    with torch.no_grad():
        # same weights; loaded tensors may sit at other memory alignments, which moves the 9th digit
        torch.testing.assert_close(model(pixel_values).predicted_ab, reloaded(pixel_values).predicted_ab, rtol=0, atol=1e-6)


def randomise_batch_norms(model) -> None:
    """Statistics and affine far from identity, as after training."""
    generator = torch.Generator().manual_seed(3)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            for tensor in (module.running_mean, module.weight, module.bias):
                tensor.data = torch.randn(tensor.shape, generator=generator)
            module.running_var.data = torch.rand(module.running_var.shape, generator=generator) + 0.5


def test_the_loader_folds_batch_norms_without_changing_the_output(model_type, tmp_path):
    """load_colorizer folds each conv's BatchNorm into the conv (inference only): same numbers, no BatchNorm pass."""
    model = build_tiny(model_type).eval()
    randomise_batch_norms(model)
    model.save_pretrained(tmp_path)
    loaded, _ = load_colorizer(str(tmp_path))
    assert [name for name, module in loaded.named_modules() if isinstance(module, torch.nn.BatchNorm2d)] == []
    pixel_values = torch.rand(1, 1, 32, 48) * 2 - 1
    expected = predict_ab(model, pixel_values, "fp32")
    torch.testing.assert_close(predict_ab(loaded, pixel_values, "fp32"), expected, rtol=0, atol=1e-5)


def test_attribute_batch_norms_stay_unfolded_where_registration_order_is_not_the_forward_order():
    from colorize_hub.folding import fold_attribute_batch_norms

    class NormFirst(torch.nn.Module):  # registers conv before bn, but normalises first
        def __init__(self):
            super().__init__()
            self.conv, self.bn = torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.BatchNorm2d(3)

        def forward(self, x):
            return self.conv(self.bn(x))

    block = NormFirst().eval()
    block.bn.running_mean.fill_(0.7)
    block.bn.running_var.fill_(3.0)
    example = torch.randn(1, 3, 8, 8)
    with torch.no_grad():
        expected = block(example)
        assert fold_attribute_batch_norms(block, example) == 0
        assert isinstance(block.bn, torch.nn.BatchNorm2d) and torch.equal(block(example), expected)


def test_eval_is_deterministic(model_type):
    model = build_tiny(model_type).eval()
    pixel_values = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model(pixel_values).predicted_ab, model(pixel_values).predicted_ab)


def test_default_config_builds_and_runs_at_64(model_type):
    record = colorize_hub.MODEL_REGISTRY[model_type]
    config_class, model_class = record.config_class, record.model_class
    model = model_class(config_class()).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 64, 64)).predicted_ab.shape == (1, 2, 64, 64)
    assert sum(p.numel() for p in model.parameters()) * 4 < 50e6  # fits the 50 MB checkpoint budget


def test_gan_discriminator_scores_and_round_trips(tmp_path):
    config = colorize_hub.ColorizerGanConfig(**TINY_CONFIGS["colorizer-gan"])
    discriminator = colorize_hub.ColorizerGanDiscriminator(config).eval()
    pixel_values, ab = torch.rand(3, 1, 40, 40) * 2 - 1, torch.rand(3, 2, 40, 40) - 0.5
    output = discriminator(pixel_values, ab)
    assert output.logits.shape == (3, 1) and ((output.probabilities > 0) & (output.probabilities < 1)).all()
    discriminator.save_pretrained(tmp_path)
    reloaded = colorize_hub.ColorizerGanDiscriminator.from_pretrained(tmp_path).eval()
    assert torch.equal(reloaded(pixel_values, ab).logits, output.logits)


def test_unet24_palette_ships_with_the_checkpoint(tmp_path):
    palette = [[0.1 * i, -0.05 * i] for i in range(24)]
    config = colorize_hub.ColorizerUnet24Config(hidden_sizes=[8, 16], palette=palette, class_weights=[2.0] * 24)
    colorize_hub.ColorizerUnet24ForColorization(config).save_pretrained(tmp_path)
    reloaded = AutoModel.from_pretrained(tmp_path)
    assert torch.allclose(reloaded.palette, torch.tensor(palette))
    assert torch.equal(reloaded.class_weights, torch.full((24,), 2.0))


@pytest.mark.parametrize("training", [False, True])
def test_fusion_fuses_the_embedding_as_the_conv_of_the_tiled_concatenation(training):
    model = build_tiny("colorizer-fusion").train(training)
    torch.manual_seed(0)
    hidden = torch.randn(2, model.config.encoder_hidden_sizes[-1], 4, 6)
    embedding = torch.randn(2, model.backbone.num_features)
    tiled = embedding[:, :, None, None].expand(-1, -1, 4, 6)
    with torch.no_grad():
        expected = model.fusion(torch.cat([hidden, tiled], dim=1))
        torch.testing.assert_close(model.fuse(hidden, embedding), expected, rtol=1e-5, atol=1e-5)


def test_fusion_embedding_dropout_acts_in_training_only():
    config = colorize_hub.ColorizerFusionConfig(**{**TINY_CONFIGS["colorizer-fusion"], "embedding_dropout": 0.5})
    model = colorize_hub.ColorizerFusionForColorization(config)
    seen = []
    model.embed = lambda pixel_values: (torch.ones(pixel_values.shape[0], model.backbone.num_features), None)
    fuse = model.fuse
    model.fuse = lambda hidden, embedding, *rest: seen.append(embedding) or fuse(hidden, embedding, *rest)
    pixel_values = torch.rand(2, 1, 16, 16) * 2 - 1
    torch.manual_seed(0)
    with torch.no_grad():
        model.train()(pixel_values)
        model.eval()(pixel_values)
    assert set(seen[0].unique().tolist()) == {0.0, 2.0}  # dropped, survivors scaled by 1 / (1 - p)
    assert torch.equal(seen[1], torch.ones_like(seen[1]))
    with pytest.raises(ValueError, match="embedding_dropout"):
        colorize_hub.ColorizerFusionConfig(embedding_dropout=1.0)


def test_fusion_backbone_features_start_as_a_no_op_on_a_checkpoint_trained_without_them(tmp_path):
    plain = build_tiny("colorizer-fusion").eval()
    plain.save_pretrained(tmp_path)
    config = colorize_hub.ColorizerFusionConfig.from_pretrained(tmp_path, backbone_feature_stage=3)
    extended = colorize_hub.ColorizerFusionForColorization.from_pretrained(tmp_path, config=config).eval()
    assert torch.count_nonzero(extended.feature_fusion.weight) == 0
    assert torch.count_nonzero(build_tiny("colorizer-fusion", backbone_feature_stage=3).feature_fusion.weight) == 0  # a fresh model too
    pixel_values = torch.rand(2, 1, 40, 36) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(extended(pixel_values).predicted_ab, plain(pixel_values).predicted_ab)


def test_fusion_backbone_features_steer_every_position_and_learn():
    model = build_tiny("colorizer-fusion", backbone_feature_stage=3)
    pixel_values = torch.rand(2, 1, 40, 36) * 2 - 1  # not a multiple of the stride: the map covers the unpadded part
    labels = torch.rand(2, 2, 40, 36) - 0.5
    model(pixel_values, labels=labels).loss.backward()
    assert model.feature_fusion.weight.grad.abs().sum() > 0  # zero-initialised, yet it gets a gradient
    torch.manual_seed(0)
    with torch.no_grad():
        model.feature_fusion.weight.normal_()
        model.eval()
        embedding, feature_map = model.embed(pixel_values)
        assert feature_map.shape[:2] == (2, model.backbone.feature_info[3]["num_chs"])
        before = model(pixel_values).predicted_ab
        model.feature_fusion.weight.zero_()
        assert not torch.allclose(model(pixel_values).predicted_ab, before)


def test_the_loader_keeps_the_fusion_norm_that_also_scales_the_backbone_features(tmp_path):
    model = build_tiny("colorizer-fusion", backbone_feature_stage=3).eval()
    randomise_batch_norms(model)
    with torch.no_grad():
        model.feature_fusion.weight.normal_()
    model.save_pretrained(tmp_path)
    loaded, _ = load_colorizer(str(tmp_path))
    assert isinstance(loaded.fusion[1], torch.nn.BatchNorm2d)  # folding it would leave the feature term unscaled
    pixel_values = torch.rand(1, 1, 32, 48) * 2 - 1
    expected = predict_ab(model, pixel_values, "fp32")
    torch.testing.assert_close(predict_ab(loaded, pixel_values, "fp32"), expected, rtol=0, atol=1e-5)


def test_fusion_backbone_feature_settings_are_checked():
    with pytest.raises(ValueError, match="backbone_feature_stage"):
        colorize_hub.ColorizerFusionConfig(backbone_feature_stage=-1)
    with pytest.raises(ValueError, match="backbone_feature_dropout"):
        colorize_hub.ColorizerFusionConfig(backbone_feature_dropout=1.0)
    with pytest.raises(ValueError, match="feature stages"):
        build_tiny("colorizer-fusion", backbone_feature_stage=9)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_annealed_mean_is_the_palette_expectation_and_leaves_the_logits_alone(dtype):
    torch.manual_seed(0)
    palette = torch.randn(24, 2) * 0.3
    logits = (torch.randn(2, 24, 5, 7) * 4).to(dtype).contiguous(memory_format=torch.channels_last)
    logits.requires_grad_(True)
    before = logits.detach().clone()
    ab = annealed_mean(logits, palette, 0.38)
    expected = torch.einsum("bqhw,qc->bchw", torch.softmax(before.float() / 0.38, dim=1), palette)
    assert ab.shape == (2, 2, 5, 7) and ab.dtype == torch.float32
    torch.testing.assert_close(ab, expected, rtol=0, atol=1e-6)
    assert torch.equal(logits.detach(), before)  # scaled in place only on its own float copy
    ab.sum().backward()  # still trains: the in-place scaling keeps the graph valid
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
