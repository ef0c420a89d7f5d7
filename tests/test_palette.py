import numpy as np
import pytest
from PIL import Image

import colorize_hub
from colorize_hub.errors import ColorizationError
from colorize_hub.training.palette import compute_palette, rebalancing_weights

RED, BLUE, GREEN = (200, 30, 30), (30, 60, 200), (40, 170, 60)


def test_palette_finds_the_colours_of_the_data_and_rebalances_them(tmp_path):
    for index in range(6):  # 5 red images, 1 blue with a green square: blue and green are rare
        image = Image.new("RGB", (32, 32), RED if index < 5 else BLUE)
        if index == 5:
            image.paste(GREEN, (0, 0, 16, 16))
        image.save(tmp_path / f"{index}.png")
    palette = compute_palette(tmp_path, num_colors=3, pixels_per_image=64)
    assert palette.centres.shape == (3, 2)
    expected = np.array([colorize_hub.color.rgb_to_normalized_lab(
        __import__("torch").tensor(c, dtype=__import__("torch").float32).view(1, 3, 1, 1) / 255)[1].flatten().numpy()
        for c in (RED, BLUE, GREEN)])
    for colour in expected:
        assert np.min(np.linalg.norm(palette.centres - colour, axis=1)) < 0.02
    red = np.argmin(np.linalg.norm(palette.centres - expected[0], axis=1))
    assert palette.frequencies[red] > 0.8 and palette.class_weights[red] == palette.class_weights.min()
    assert np.isclose(np.sum(palette.frequencies * palette.class_weights), 1.0)
    config = colorize_hub.ColorizerUnet24Config(hidden_sizes=[8, 16], **palette.config_kwargs())
    assert config.num_colors == 3


def test_uniform_frequencies_give_unit_weights():
    assert np.allclose(rebalancing_weights(np.full(24, 1 / 24)), 1.0)


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ColorizationError, match="No images"):
        compute_palette(tmp_path)
