"""`colorize-hub train` / `python -m colorize_hub.training.train`: train any architecture with `transformers.Trainer`.

Every model computes its own loss in `forward`, so `Trainer` trains all of them (as `ColorizationTrainer`, which
only makes checkpoints crash-safe); the GAN uses `GanTrainer`, which adds the discriminator step. After a crash,
`--resume_from_checkpoint last` resumes from the newest complete checkpoint. Multi-GPU and multi-node need no code change:
`accelerate launch -m colorize_hub.training.train ...` or `torchrun --nproc-per-node 8 -m colorize_hub.training.train ...`.
"""

import json
import logging
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import torch
from transformers import HfArgumentParser, Trainer, TrainingArguments, set_seed

from .callbacks import EmaCallback, TrainingClock, plot_loss_curve
from .checkpointing import ColorizationTrainer, publish_files
from .data import WeightedMix, load_training_data, load_training_mix
from .losses import RegressionLoss
from ..hardware import cpu_model_name
from ..image_processing_colorization import ColorizationImageProcessor
from ..evaluation.metrics import colorization_metrics
from ..publishing.model_card import description_of, write_model_card
from ..models import MODEL_REGISTRY, classifies_colours
from .hints import HintedDataset
from .palette import compute_palette
from .widening import load_widened

logger = logging.getLogger(__name__)


@dataclass
class ModelArguments:
    model: str = field(metadata={"help": f"architecture: {', '.join(MODEL_REGISTRY)}"})
    config_overrides: str | None = field(default=None, metadata={"help": 'JSON of config fields, e.g. \'{"hidden_sizes": [16, 32]}\''})
    init_from: str | None = field(default=None, metadata={"help": "checkpoint folder to fine-tune instead of a fresh model"})
    backbone_weights: str = field(default="auto", metadata={"help": "pretrained parts (an ImageNet backbone) of a fresh model: auto, hub, package or none"})
    freeze_backbone: bool = field(default=True, metadata={"help": "keep those pretrained parts fixed (and in eval mode)"})
    palette_from_data: bool = field(default=True, metadata={"help": "colour-classifying (palette) heads: k-means palette and class weights from the training folder"})
    lambda_l1: float = field(default=100.0, metadata={"help": "GAN: weight of the L1 term against the adversarial term"})
    discriminator_learning_rate: float | None = field(default=None, metadata={"help": "GAN: defaults to learning_rate"})
    undersaturation_weight: float = field(default=0.0, metadata={"help": "regression models: weight of the under-saturation term (colour over gray); 0 = plain L1"})
    semantic_weight: float = field(default=0.0, metadata={"help": "weight of the classifier-consistency term (KL between a frozen ImageNet classifier's predictions on the true and the colorized photo); 0 = off"})
    semantic_classifier: str = field(default="tf_efficientnet_lite2", metadata={"help": "timm classifier of that term (EfficientNet-Lite0/1/2 load offline)"})
    semantic_image_size: int = field(default=0, metadata={"help": "side the classifier of that term sees both photos at (bilinear resize); 0 = the training crop size"})
    semantic_chroma_gain: float = field(default=1.0, metadata={"help": "that term sees the predicted ab times this gain, clamped as the processor does: set it to the checkpoint's chroma_gain so hues are judged as displayed"})
    semantic_relative_to_gray: bool = field(default=False, metadata={"help": "that term charges a photo only for the divergence beyond the gray photo's: colour no worse for recognition than none costs nothing"})
    rgb_weight: float = field(default=0.0, metadata={"help": "weight of a squared-error term on the colorized photo in sRGB (where PSNR is measured), added to the model's own loss against the same target; 0 = off"})
    teacher: str | None = field(default=None, metadata={"help": "a colorizer (name or folder) whose ab at gain 1 joins the truth as the reconstruction target (distillation); see --teacher_share"})
    teacher_share: float = field(default=0.5, metadata={"help": "with --teacher: the target is (1 - share) x truth + share x the teacher's ab"})
    ema_decay: float = field(default=0.0, metadata={"help": "average the weights with this decay (e.g. 0.999); 0 = off"})
    channels_last: bool = field(default=False, metadata={"help": "channels_last memory format (faster with bf16 on CPUs with AMX)"})
    render_size: int = field(default=256, metadata={"help": "render size saved in the checkpoint's image processor"})


@dataclass
class DataArguments:
    train_data: list[str] = field(metadata={"help": "one or more folders of images, datasets ids or imagefolder:DIR; "
                                                    "several are mixed by --train_weights"})
    train_weights: list[float] | None = field(default=None, metadata={
        "help": "one weight per --train_data source: its share of the training images (e.g. 0.7 0.3); "
                "default: each image once per epoch"})
    eval_data: str | None = field(default=None, metadata={"help": "one source, same forms as train_data"})
    image_size: int = field(default=128, metadata={"help": "side of the random training crops"})
    eval_image_size: int = field(default=256, metadata={"help": "side of the centre crops used for evaluation"})
    max_eval_images: int | None = field(default=None, metadata={
        "help": "evaluate on this many images, spread evenly over the sorted folder (every k-th: all its classes)"})
    train_split: str = field(default="train", metadata={"help": "split name for datasets ids"})
    eval_split: str = field(default="validation", metadata={"help": "split name for datasets ids"})
    streaming: bool = field(default=False, metadata={"help": "stream a datasets id (needs --max_steps)"})
    hint_free_share: float = field(default=0.5, metadata={
        "help": "models that take colour hints: share of training photos without any hint"})
    hint_p: float = field(default=0.125, metadata={
        "help": "models that take colour hints: the other photos get 1 + Geometric(p) hints (mean 1/p)"})
    hint_max_patch: int = field(default=9, metadata={
        "help": "models that take colour hints: each hint is a square patch of 1 to this many pixels a side"})


def build_model(model_args: ModelArguments, data_args: DataArguments):
    if model_args.model not in MODEL_REGISTRY:
        raise SystemExit(f"--model must be one of {', '.join(MODEL_REGISTRY)}, not {model_args.model!r}")
    record = MODEL_REGISTRY[model_args.model]
    config_class, model_class = record.config_class, record.model_class
    overrides = json.loads(model_args.config_overrides or "{}")
    start = config_class.get_config_dict(model_args.init_from)[0] if model_args.init_from else {}
    config = config_class.from_dict({**start, **overrides})  # overrides go through __init__ (e.g. a new head)
    # a colour-classifying head that starts here (a fresh model, or a regression checkpoint given a palette head)
    # gets the k-means palette and class weights of the training data, unless the overrides set them
    new_palette = getattr(config, "palette", None) and not start.get("palette")
    palette_source = data_args.train_data[0]  # of a mix, the first source
    if new_palette and model_args.palette_from_data and Path(palette_source).is_dir():
        for key, value in compute_palette(palette_source).config_kwargs().items():
            setattr(config, key, overrides.get(key, value))
    takes_hints = getattr(config, "hints", False)
    new_suggestions = takes_hints and not start.get("suggestion_palette") and "suggestion_palette" not in overrides
    if new_suggestions and model_args.palette_from_data and Path(palette_source).is_dir():
        # the colours offered at a clicked point: 64 k-means colours of (a spread of) the training photos
        config.suggestion_palette = compute_palette(palette_source, 64, max_images=4000).config_kwargs()["palette"]
    if takes_hints and config.hint_trained_size is None:  # the side whose grid a hint's learnt reach is measured in
        config.hint_trained_size = data_args.image_size
    if model_args.init_from and takes_hints and not start.get("hints"):
        model = model_class(config)  # a hint-free checkpoint learning to take hints: it starts as it was
        load_widened(model, model_args.init_from)
    elif model_args.init_from:  # weights of a new head are initialised fresh (and reported by transformers)
        model = model_class.from_pretrained(model_args.init_from, config=config)
    else:
        model = model_class(config)
        if record.load_pretrained and model_args.backbone_weights != "none":
            source = record.load_pretrained(model, model_args.backbone_weights)
            logger.info("%s: pretrained weights from the %s", model_args.model, source)
    if record.freeze_pretrained and model_args.freeze_backbone:
        record.freeze_pretrained(model)
    if model_args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


class ColorizationMetrics:
    """`compute_metrics`: PSNR/colourfulness beside the gray baseline, and per-pixel class accuracy for models
    that classify colours (the predicted class against the palette colour nearest to the true ab)."""

    def __init__(self, palette: list | None = None):
        self.palette = torch.tensor(palette) if palette is not None else None

    def __call__(self, evaluation) -> dict[str, float]:
        classifies = self.palette is not None
        predicted_ab, predicted_class = evaluation.predictions if classifies else (evaluation.predictions, None)
        metrics = colorization_metrics(evaluation.inputs, predicted_ab, evaluation.label_ids)
        if classifies:
            metrics["pixel_accuracy"] = pixel_accuracy(torch.as_tensor(predicted_class), torch.as_tensor(evaluation.label_ids), self.palette)
        return metrics


def pixel_accuracy(predicted_class: torch.Tensor, true_ab: torch.Tensor, palette: torch.Tensor) -> float:
    """Share of pixels whose predicted class is the palette colour nearest to the true ab (B, 2, H, W)."""
    # (B, 2, H, W) -> (B, H, W, 2) vs (Q, 2) -> (B, H, W, Q) -> nearest (B, H, W)
    nearest = torch.cdist(true_ab.float().permute(0, 2, 3, 1).reshape(-1, 2), palette.float()).argmin(-1)
    return (predicted_class.reshape(-1) == nearest).float().mean().item()


class KeepForMetrics:
    """`preprocess_logits_for_metrics`: keep predicted_ab, and for a model that classifies colours the arg-max
    class instead of all its logits (Trainer hands over (predicted_ab, logits) then, predicted_ab alone otherwise)."""

    def __init__(self, classifies: bool):
        self.classifies = classifies

    def __call__(self, outputs, labels):
        if self.classifies:
            predicted_ab, logits = outputs
            return predicted_ab, logits.argmax(dim=1)
        return outputs


def make_trainer(model, model_args, training_args, train_dataset, eval_dataset) -> Trainer:
    callbacks = [TrainingClock()] + ([EmaCallback(model_args.ema_decay)] if model_args.ema_decay > 0 else [])
    loss = None
    if model_args.undersaturation_weight > 0:
        if classifies_colours(model):
            raise SystemExit("--undersaturation_weight is for the regression models; this one classifies colours")
        loss = RegressionLoss(model_args.undersaturation_weight)
    record = MODEL_REGISTRY[model_args.model]
    if model_args.rgb_weight and record.trainer_class:
        raise SystemExit(f"--rgb_weight is not implemented for {model_args.model}, which has its own trainer")
    kwargs = dict(compute_loss_func=loss,
        model=model, args=training_args, train_dataset=train_dataset, eval_dataset=eval_dataset,
        compute_metrics=ColorizationMetrics(model.config.palette if classifies_colours(model) else None),
        preprocess_logits_for_metrics=KeepForMetrics(classifies_colours(model)), callbacks=callbacks,
    )
    trainer_class = record.trainer_class() if record.trainer_class else ColorizationTrainer
    return trainer_class.from_model_arguments(model_args, **kwargs)


def earlier_runs(init_from: str | None) -> list[dict]:
    """The training history of the checkpoint a fine-tune starts from, oldest first (for its model card)."""
    path = Path(init_from or "", "training_summary.json")
    if not init_from or not path.is_file():
        return []
    previous = json.loads(path.read_text())
    return [*previous.pop("earlier_runs", []), previous]


def hardware_description() -> str:
    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name()}"
    return f"CPU {cpu_model_name()}, {torch.get_num_threads()} thread(s)"


def parse_arguments(argv: list[str] | None = None):
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments))
    model_args, data_args, training_args = parser.parse_args_into_dataclasses(args=argv)
    training_args.remove_unused_columns = False  # datasets transforms need the image column
    training_args.include_for_metrics = sorted({*training_args.include_for_metrics, "inputs"})
    training_args.label_names = ["labels"]
    return model_args, data_args, training_args


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    model_args, data_args, training_args = parse_arguments(argv)
    train_dataset = load_training_mix(data_args.train_data, data_args.train_weights, data_args.image_size, True,
                                      data_args.train_split, data_args.streaming)
    mix = train_dataset if isinstance(train_dataset, WeightedMix) else None  # several sources: shares, distinct images
    eval_dataset = None
    if data_args.eval_data:
        eval_dataset = load_training_data(data_args.eval_data, data_args.eval_image_size, False,
                                          data_args.eval_split, max_images=data_args.max_eval_images)
    set_seed(training_args.seed)  # a fresh model's initial weights too: the same command trains the same model
    model = build_model(model_args, data_args)
    if getattr(model.config, "hints", False):  # training photos carry random hints; evaluation stays without
        train_dataset = HintedDataset(train_dataset, data_args.hint_free_share, data_args.hint_p,
                                      data_args.hint_max_patch)
    trainer = make_trainer(model, model_args, training_args, train_dataset, eval_dataset)

    # a folder, or "last"/"auto": the newest complete checkpoint in output_dir (none yet: start fresh)
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    clock = next(c for c in trainer.callback_handler.callbacks if isinstance(c, TrainingClock))
    wall_seconds = clock.seconds()  # resumed: the earlier parts' time included
    metrics = trainer.evaluate() if eval_dataset is not None else {}

    # The final files are written into a staging folder, then each is renamed into output_dir (atomic), the
    # summary last: a run killed while saving never leaves a half-written model.safetensors behind.
    output_dir = Path(training_args.output_dir)
    staging = output_dir / ".final-staging"
    if trainer.is_world_process_zero():
        shutil.rmtree(staging, ignore_errors=True)
    trainer.accelerator.wait_for_everyone()
    trainer.save_model(staging)
    summary = {
        "command": "colorize-hub train " + shlex.join(argv),
        "model_type": model_args.model,
        "train_data": " + ".join(data_args.train_data),  # one source: its name, as before
        **({"train_weights": [round(share, 4) for share in mix.shares]} if mix else {}),
        "train_images": sum(mix.sizes) if mix else len(train_dataset) if hasattr(train_dataset, "__len__") else None,
        "steps": trainer.state.global_step,
        "images_seen": trainer.state.global_step * training_args.per_device_train_batch_size
        * training_args.gradient_accumulation_steps * training_args.world_size,
        "wall_seconds": round(wall_seconds, 1),
        "hardware": hardware_description(),
        "processes": training_args.world_size,
        "eval_data": data_args.eval_data,
        "eval_image_size": data_args.eval_image_size,
        "eval_metrics": {k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)},
        "parameters": sum(p.numel() for p in model.parameters()),
        "earlier_runs": earlier_runs(model_args.init_from),
    }
    if trainer.is_world_process_zero():
        (staging / "training_args.bin").unlink(missing_ok=True)  # a pickle; the arguments are in the summary
        ColorizationImageProcessor(render_size=model_args.render_size).save_pretrained(staging)
        trainer.save_extra_parts(staging)
        plot_loss_curve(trainer.state.log_history, staging / "loss_curve.png")
        (staging / "training_summary.json").write_text(json.dumps(summary, indent=2))
        write_model_card(staging, output_dir.name, summary, description_of(model.config.to_dict()))
        publish_files(staging, output_dir, last="training_summary.json")
    return summary


if __name__ == "__main__":
    main()
