"""Model cards written from a training summary: data sources of a weighted mix, licence, images seen, notes."""

from pathlib import Path

from colorize_hub.publishing.model_card import export_checkpoint, write_model_card

SUMMARY = {
    "command": f"colorize-hub train --train_data {Path.home()}/data/miniplaces/train {Path.home()}/data/tinyimagenet/train",
    "model_type": "colorizer-encoder-unet",
    "train_data": f"{Path.home()}/data/miniplaces/train + {Path.home()}/data/tinyimagenet/train",
    "train_weights": [0.6, 0.4],
    "steps": 100, "images_seen": 3200, "wall_seconds": 60.0, "hardware": "CPU test", "processes": 1,
    "parameters": 1_000_000, "notes": ["finished after an interruption"],
}


def test_card_names_each_source_of_a_mix_its_share_and_their_licences(tmp_path):
    card = write_model_card(tmp_path, "colorizer-test", SUMMARY, "A test model.").read_text()
    assert "`miniplaces/train` (share 60%)" in card and "`tinyimagenet/train` (share 40%)" in card
    assert "- places365\n- tiny-imagenet" in card  # Hub metadata: one dataset id per source
    assert "MiniPlaces (Places), Tiny ImageNet (ImageNet)" in card
    assert "UTKFace" not in card and "CIFAR-10" not in card  # only the collections this run used
    assert "images seen: 3,200" in card and "- finished after an interruption" in card
    assert str(Path.home()) + "/" not in card and "~/data/miniplaces/train" in card


def test_card_keeps_the_notes_of_every_earlier_run_under_that_run(tmp_path):
    first = dict(SUMMARY, notes=["released because it beat the one before"])
    summary = dict(SUMMARY, notes=["the final run's note"], earlier_runs=[first])
    card = write_model_card(tmp_path, "colorizer-test", summary, "A test model.").read_text()
    run_1, final = card.split("Final run:")
    assert "- released because it beat the one before" in run_1 and "- the final run's note" in final


def test_card_of_an_unknown_folder_says_where_its_images_came_from(tmp_path):
    summary = dict(SUMMARY, train_data="/photos/mine", train_weights=None, notes=[])
    summary.pop("images_seen")
    card = write_model_card(tmp_path, "colorizer-test", summary, "A test model.").read_text()
    assert "`photos/mine` — images from `/photos/mine`" in card and "images seen" not in card


def test_card_states_the_psnr_bound_the_gain_was_chosen_under(tmp_path):
    calibration = {"chroma_gain": 1.2, "annealed_temperature": None, "table": {1.0: (23.0, 17.0), 1.2: (22.9, 21.0)},
                   "gray_psnr": 22.84, "truth_colourfulness": 41.2, "data": "dev", "psnr_tolerance": 0.0}
    card = write_model_card(tmp_path, "colorizer-test", SUMMARY, "A test model.", calibration=calibration).read_text()
    assert "whose PSNR is at least the gray image's (22.84 dB)" in card and "at 1.2: PSNR 22.90, CF 21.0" in card
    calibration["psnr_tolerance"] = 0.5
    card = write_model_card(tmp_path, "colorizer-test", SUMMARY, "A test model.", calibration=calibration).read_text()
    assert "whose PSNR stays within 0.5 dB of the gray image's (22.84 dB)" in card
    assert "`dev` (a dev set" in card
    calibration.update(psnr_tolerance=-0.3, protocol="ct2-256")
    card = write_model_card(tmp_path, "colorizer-test", SUMMARY, "A test model.", calibration=calibration).read_text()
    assert "whose PSNR is at least 0.3 dB above the gray image's (22.84 dB)" in card
    assert "chosen on `dev` under the `ct2-256` protocol" in card


def test_export_replaces_the_previous_releases_records_and_drops_those_the_run_lacks(tmp_path):
    run, release = tmp_path / "run", tmp_path / "release"
    run.mkdir(), release.mkdir()
    (run / "model.safetensors").write_text("new weights")
    (run / "training_summary.json").write_text("{}")
    (release / "model.safetensors").write_text("old weights")
    (release / "calibration.json").write_text('{"chroma_gain": 1.05}')  # the old weights' calibration
    (release / "evaluation.json").write_text("{}")
    (release / "notes.txt").write_text("kept")  # not a record: left alone
    export_checkpoint(run, release)
    assert (release / "model.safetensors").read_text() == "new weights"
    assert (release / "training_summary.json").exists()
    assert not (release / "calibration.json").exists() and not (release / "evaluation.json").exists()
    assert (release / "notes.txt").read_text() == "kept"
