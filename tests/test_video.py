"""Video: temporal smoothing lowers flicker on a static-camera clip, a scene cut restarts it, audio survives."""

import av
import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from colorize_hub import cli
from colorize_hub.media.temporal import ChromaSmoother, flicker, static_camera_clip
from colorize_hub.media.video import colorize_frames
from conftest import build_tiny

FPS, SAMPLE_RATE = 12, 16000


@pytest.fixture(scope="module")
def vivid_model(tmp_path_factory):
    """A tiny U-Net-24 whose classifier prefers saturated palette colours: untrained, yet it paints."""
    model = build_tiny("colorizer-unet24", seed=1).eval()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.linspace(-3, 3, 24))
    folder = tmp_path_factory.mktemp("vivid")
    model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def clip():
    """Two photos held still (noise + 1 px shake per frame), with a hard cut between them."""
    photos = [np.asarray(Image.fromarray(p).resize((160, 120))) for p in (data.astronaut(), data.coffee())]
    return static_camera_clip(photos, frames_per_scene=8, noise=4.0, jitter=1)


def _run(frames, model, smoother=None):
    images, chroma = zip(*colorize_frames(frames, model, render_size=64, smoother=smoother, precision="fp32",
                                          with_chroma=True))
    return list(images), list(chroma)


def test_smoothing_reduces_flicker_and_a_scene_cut_resets_it(clip, vivid_model):
    frames, starts = clip
    assert starts == [8]
    raw_images, raw = _run(frames, str(vivid_model))
    smoother = ChromaSmoother()
    smooth_images, smooth = _run(frames, str(vivid_model), smoother)
    assert smoother.cuts == [8]  # the cut, and only the cut (noise and shake are not cuts)
    # the colour layer: at least a third less frame-to-frame change; the pictures themselves flicker less too
    assert flicker(raw, starts) > 0.5  # the unsmoothed model really flickers on this clip
    assert flicker(smooth, starts) < 0.67 * flicker(raw, starts)
    assert flicker(smooth_images, starts) < flicker(raw_images, starts)
    # the first frame after the cut is the new scene's own prediction, not blended with the previous scene
    assert torch.equal(smooth[8], raw[8])
    assert np.array_equal(np.asarray(smooth_images[8]), np.asarray(raw_images[8]))
    # a plain moving average that never resets (no cut detection, no motion guard) blends the two scenes
    _, blind = _run(frames, str(vivid_model), ChromaSmoother(histogram_cut=2.0, difference_cut=10.0, motion_floor=9.0))
    assert (blind[8] - raw[8]).abs().mean() > 3.0


def _write_clip(path, frames, audio="aac"):
    """H.264 video of gray frames (+ a 440 Hz tone of the same length, encoded with `audio`, unless None)."""
    height, width = frames[0].shape
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream(audio, rate=SAMPLE_RATE, layout="mono") if audio else None
        for index, gray in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.repeat(gray[..., None], 3, axis=2), format="rgb24")
            frame.pts = index
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            seconds = np.arange(int(SAMPLE_RATE * len(frames) / FPS)) / SAMPLE_RATE
            wave = (0.3 * np.sin(2 * np.pi * 440 * seconds)).astype(np.float32)[None]
            tone = av.AudioFrame.from_ndarray(wave, format="flt", layout="mono")
            tone.sample_rate, tone.pts = SAMPLE_RATE, 0
            container.mux(sound.encode(tone))
            container.mux(sound.encode(None))


def test_video_command_colorizes_every_frame_and_keeps_the_audio(clip, vivid_model, tmp_path, capsys):
    frames, _ = clip
    source, target = tmp_path / "in.mp4", tmp_path / "out.mp4"
    _write_clip(source, frames)
    code = cli.main(["video", str(source), "-o", str(target), "--model", str(vivid_model), "--render-size", "64",
                     "--batch-size", "3", "-q"])
    assert code == 0, capsys.readouterr().err
    assert "16 frames, 1 scene cut(s), copied aac" in capsys.readouterr().out
    with av.open(str(target)) as container:
        assert container.streams.audio and container.streams.audio[0].codec_context.name == "aac"
        audio_seconds = float(container.streams.audio[0].duration * container.streams.audio[0].time_base)
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 16 and decoded[0].shape == (120, 160, 3)
    assert abs(audio_seconds - 16 / FPS) < 0.1
    chroma = np.abs(decoded[4].astype(int)[..., 0] - decoded[4].astype(int)[..., 2]).mean()
    assert chroma > 5  # colour, not the gray input
    # inputs are never overwritten, existing outputs only with --overwrite
    assert cli.main(["video", str(source), "-o", str(source), "--model", str(vivid_model)]) == 2
    assert cli.main(["video", str(source), "-o", str(target), "--model", str(vivid_model)]) == 2


def test_audio_mp4_cannot_hold_is_reencoded_silent_video_works_bad_file_is_refused(vivid_model, tmp_path, capsys):
    frames, _ = static_camera_clip([data.camera()[::8, ::8]], frames_per_scene=3)
    _write_clip(tmp_path / "pcm.mkv", frames, audio="pcm_s16le")
    assert cli.main(["video", str(tmp_path / "pcm.mkv"), "-o", str(tmp_path / "pcm.mp4"), "--model",
                     str(vivid_model), "--render-size", "64", "-q"]) == 0
    assert "3 frames, 0 scene cut(s), re-encoded pcm_s16le to aac" in capsys.readouterr().out
    with av.open(str(tmp_path / "pcm.mp4")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"
    _write_clip(tmp_path / "silent.mp4", frames, audio=None)
    assert cli.main(["video", str(tmp_path / "silent.mp4"), "-o", str(tmp_path / "out.mkv"), "--model",
                     str(vivid_model), "--render-size", "64", "--smoothing", "0", "-q"]) == 0
    assert "3 frames, 0 scene cut(s), no audio track" in capsys.readouterr().out
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    assert cli.main(["video", str(tmp_path / "bad.mp4"), "-o", str(tmp_path / "x.mp4"), "--model",
                     str(vivid_model), "-q"]) == 2
    assert "Cannot process video" in capsys.readouterr().err and not (tmp_path / "x.mp4").exists()
