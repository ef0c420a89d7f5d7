"""The encoder U-Net's residual refinement blocks: a checkpoint without them takes them on unchanged, they learn,
survive save and reload, export to ONNX, and bad counts are refused."""

import pytest
import torch

from colorize_hub.models import ColorizerEncoderUnetConfig, ColorizerEncoderUnetForColorization
from colorize_hub.publishing.onnx_export import export_onnx
from conftest import build_tiny, tiny_config
from test_onnx import assert_onnx_runtime_matches

REFINE = tiny_config("colorizer-encoder-unet", "refine")


def test_a_checkpoint_fine_tuned_with_refinement_blocks_starts_identical_and_then_learns(tmp_path):
    build_tiny("colorizer-encoder-unet", head="regression").save_pretrained(tmp_path / "plain")
    plain = ColorizerEncoderUnetForColorization.from_pretrained(tmp_path / "plain").eval()
    config = ColorizerEncoderUnetConfig.from_dict({**plain.config.to_dict(), "decoder_refine_blocks": [1, 0, 1, 0]})
    refined = ColorizerEncoderUnetForColorization.from_pretrained(tmp_path / "plain", config=config).eval()
    assert [len(stage.refine) for stage in refined.decoder] == [1, 0, 1, 0]
    pixels = torch.rand(2, 1, 64, 96) * 2 - 1
    with torch.no_grad():
        assert torch.equal(refined(pixels).predicted_ab, plain(pixels).predicted_ab)
    refined.train()
    optimizer = torch.optim.SGD(refined.parameters(), lr=0.1)
    refined(pixels, labels=torch.rand(2, 2, 64, 96) - 0.5).loss.backward()
    last_norm = refined.decoder[0].refine[0].body[1][1]
    assert last_norm.weight.grad.abs().sum() > 0  # starts at zero, but it learns
    optimizer.step()
    refined.eval()
    with torch.no_grad():
        assert not torch.equal(refined(pixels).predicted_ab, plain(pixels).predicted_ab)


def test_refinement_blocks_survive_save_and_reload_and_match_onnx_runtime(tmp_path):
    model = build_tiny("colorizer-encoder-unet", seed=3, **REFINE).eval()
    with torch.no_grad():
        for stage in model.decoder:
            for block in stage.refine:
                block.body[1][1].weight.normal_()  # not the zero they start from
    model.save_pretrained(tmp_path / "saved")
    reloaded = ColorizerEncoderUnetForColorization.from_pretrained(tmp_path / "saved").eval()
    pixels = torch.rand(1, 1, 64, 64) * 2 - 1
    with torch.no_grad():
        assert torch.equal(reloaded(pixels).predicted_ab, model(pixels).predicted_ab)
    assert_onnx_runtime_matches(model, export_onnx(model, tmp_path / "refine.onnx"))


@pytest.mark.parametrize("counts", [[1, 1], [1, -1, 0, 0], [1, 0.5, 0, 0], [True, 0, 0, 0]])
def test_refinement_block_counts_must_give_one_count_per_decoder_stage(counts):
    with pytest.raises(ValueError, match="decoder_refine_blocks must give a block count >= 0 for each of the 4"):
        ColorizerEncoderUnetConfig(decoder_hidden_sizes=[16, 16, 8, 8], decoder_refine_blocks=counts)
