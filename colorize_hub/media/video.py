"""`colorize-hub video`: colorize a video frame by frame with steady colour, keeping its sound.

Frames go through the same processor and model as `colorize()` (a batch of frames per forward pass); the
predicted ab is smoothed over time by `temporal.ChromaSmoother` before the full-resolution merge. Video is
decoded and encoded with PyAV (its wheels ship FFmpeg): H.264 out, at the input's frame timing. Audio
streams are copied bit for bit where the output container takes their codec, else re-encoded to AAC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..color import denormalize_ab
from ..errors import ColorizationError
from ..loading import as_colorizer
from ..pipeline import predict_ab
from .temporal import ChromaSmoother

logger = logging.getLogger(__name__)

CONTAINERS = {".mp4", ".m4v", ".mov", ".mkv"}
# audio codecs the MP4/MOV muxer accepts as they are; Matroska takes any codec
MP4_AUDIO = {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"}


def colorize_frames(frames: Iterable, model, render_size: int | None = None, saturation: float = 1.0,
                    smoother: ChromaSmoother | None = None, batch_size: int = 8, precision: str = "auto",
                    with_chroma: bool = False) -> Iterator:
    """Colorize frames in order (anything `colorize()` takes: arrays, PIL images); yields PIL images, or
    (image, chroma) pairs with `with_chroma`, chroma being the colour layer: the (smoothed) predicted ab in
    CIE Lab units at the render size (2, S, S), before it is joined with the frame's own lightness.

    Frames are run through the model `batch_size` at a time; the smoother (if any) then sees them one by one,
    in order, at the render size, so smoothing costs the same whatever the video's resolution.
    """
    model, processor = as_colorizer(model)
    batch = []
    for frame in frames:
        batch.append(frame)
        if len(batch) == batch_size:
            yield from _colorize_batch(batch, model, processor, render_size, saturation, smoother, precision,
                                       with_chroma)
            batch = []
    if batch:
        yield from _colorize_batch(batch, model, processor, render_size, saturation, smoother, precision, with_chroma)


def _colorize_batch(frames, model, processor, render_size, saturation, smoother, precision, with_chroma):
    inputs = processor(frames, render_size=render_size)
    predicted = predict_ab(model, inputs["pixel_values"], precision)  # (B, 2, S, S)
    for i in range(len(frames)):
        ab = predicted[i : i + 1]
        if smoother is not None:
            ab = smoother(inputs["pixel_values"][i : i + 1], ab)
        image = processor.post_process_colorization(
            ab, inputs["original_lightness"][i : i + 1], alpha=inputs["alpha"][i : i + 1], saturation=saturation
        )[0]
        yield (image, denormalize_ab(ab[0])) if with_chroma else image


@dataclass
class VideoReport:
    """What `colorize_video` did: frames written, scene cuts found, and what happened to each audio stream."""

    frames: int = 0
    scene_cuts: list[int] = field(default_factory=list)
    audio: list[str] = field(default_factory=list)  # "copied <codec>" / "re-encoded <codec> to aac"


def _check_paths(source: Path, destination: Path, overwrite: bool) -> None:
    if not source.is_file():
        raise ColorizationError(f"Video file {source} does not exist or is not a file.")
    if destination.suffix.lower() not in CONTAINERS:
        raise ColorizationError(f"Output {destination} must end in one of {sorted(CONTAINERS)} (H.264 video).")
    if destination.resolve() == source.resolve():
        raise ColorizationError("The output path is the input path: choose another, inputs are never overwritten.")
    if destination.exists() and not overwrite:
        raise ColorizationError(f"{destination} exists; pass --overwrite to replace it.")


def _add_audio(output, stream, container_suffix: str) -> tuple[object, bool, str]:
    """(output stream, copy?, description) for one input audio stream."""
    codec = stream.codec_context.name
    if container_suffix == ".mkv" or codec in MP4_AUDIO:
        return output.add_stream_from_template(stream), True, f"copied {codec}"
    layout = "mono" if stream.codec_context.channels == 1 else "stereo"  # what AAC-in-MP4 players all take
    encoder = output.add_stream("aac", rate=stream.codec_context.sample_rate or 48000, layout=layout, format="fltp")
    return encoder, False, f"re-encoded {codec} to aac"


def _add_video(writer, video_in, crf: int):
    """An H.264 output stream with the input's size, frame rate and time base (so every frame keeps its time)."""
    width, height = video_in.codec_context.width, video_in.codec_context.height
    video_out = writer.add_stream("libx264", rate=video_in.average_rate or 25)
    video_out.width, video_out.height = width, height
    video_out.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"  # 4:2:0 needs even sizes
    video_out.codec_context.time_base = video_in.time_base
    video_out.options = {"crf": str(crf)}
    return video_out


def colorize_video(source: str | Path, destination: str | Path, model, render_size: int | None = None,
                   saturation: float = 1.0, smoothing: float = 0.7, batch_size: int = 8, crf: int = 18,
                   overwrite: bool = False, progress: bool = True) -> VideoReport:
    """Colorize `source` into `destination` (.mp4/.m4v/.mov/.mkv), frame by frame, keeping timing and audio.

    smoothing: `ChromaSmoother` strength (0 = each frame on its own). crf: H.264 quality (lower = better).
    Frames are decoded, colorized `batch_size` at a time and encoded while audio packets are passed through,
    in the input's interleaved order, so memory stays bounded whatever the video's length.
    """
    import av  # PyAV; imported here so the rest of the package works without it

    source, destination = Path(source), Path(destination)
    _check_paths(source, destination, overwrite)
    if not 0 <= smoothing < 1 or batch_size < 1:
        raise ColorizationError(f"smoothing must be in [0, 1) and batch_size >= 1, got {smoothing} and {batch_size}.")
    as_colorizer(model)  # a bad model fails before any file is written
    report, smoother = VideoReport(), ChromaSmoother(smoothing) if smoothing > 0 else None
    writing = False
    try:
        with av.open(str(source)) as reader:
            if not reader.streams.video:
                raise ColorizationError(f"{source} has no video stream.")
            video_in = reader.streams.video[0]
            video_in.thread_type = "AUTO"
            destination.parent.mkdir(parents=True, exist_ok=True)
            writing = True
            with av.open(str(destination), "w") as writer:
                video_out = _add_video(writer, video_in, crf)
                audio = {s: _add_audio(writer, s, destination.suffix.lower()) for s in reader.streams.audio}
                report.audio = [description for _, _, description in audio.values()]
                bar = tqdm(total=video_in.frames or None, desc="video", unit="frame", disable=not progress)

                def encode(pending: list) -> None:
                    arrays = (decoded.to_ndarray(format="rgb24") for decoded in pending)
                    images = colorize_frames(arrays, model, render_size, saturation, smoother, batch_size)
                    for decoded, image in zip(pending, images):
                        frame = av.VideoFrame.from_ndarray(np.asarray(image.convert("RGB")), format="rgb24")
                        frame.pts, frame.time_base = decoded.pts, decoded.time_base
                        writer.mux(video_out.encode(frame))
                        report.frames += 1
                        bar.update()

                pending = []
                for packet in reader.demux(video_in, *audio):
                    if packet.stream is video_in:
                        pending += packet.decode()  # the final, empty packet flushes the decoder
                        if len(pending) >= batch_size:
                            encode(pending)
                            pending = []
                        continue
                    stream_out, copy, _ = audio[packet.stream]
                    if not copy:
                        for samples in packet.decode():
                            writer.mux(stream_out.encode(samples))
                    elif packet.dts is not None:  # a packet without dts is the demuxer's end marker
                        packet.stream = stream_out
                        writer.mux(packet)
                encode(pending)
                writer.mux(video_out.encode(None))
                for stream_out, copy, _ in audio.values():
                    if not copy:
                        writer.mux(stream_out.encode(None))
                bar.close()
    except (av.FFmpegError, ColorizationError) as error:
        if writing:
            destination.unlink(missing_ok=True)  # never leave a half-written video behind
        if isinstance(error, ColorizationError):
            raise
        raise ColorizationError(f"Cannot process video {source}: {error}") from error
    report.scene_cuts = smoother.cuts if smoother is not None else []
    logger.info("%s -> %s: %d frames, scene cuts at %s", source, destination, report.frames, report.scene_cuts)
    return report
