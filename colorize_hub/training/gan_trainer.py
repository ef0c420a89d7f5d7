"""`Trainer` for the GAN: a discriminator step, then a generator step (adversarial + λ·L1), per batch.

The generator is the Trainer's model (its optimizer, scheduler, checkpoints and `save_model` are the
Trainer's own); the discriminator and its optimizer live here and are saved into, and restored from, every
checkpoint, so `resume_from_checkpoint` resumes both networks. Checkpoints are written atomically
(`AtomicCheckpointMixin`): a run killed while saving never leaves a half-written `checkpoint-N/`.
"""

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from .checkpointing import ColorizationTrainer
from ..models import ColorizerGanDiscriminator

DISCRIMINATOR_DIR = "discriminator"
DISCRIMINATOR_OPTIMIZER = "discriminator_optimizer.pt"


class GanTrainer(ColorizationTrainer):
    @classmethod
    def from_model_arguments(cls, model_args, **trainer_kwargs) -> "GanTrainer":
        """A fine-tune (`--init_from`) continues the discriminator saved beside the generator, if there is one."""
        saved = Path(model_args.init_from or "", DISCRIMINATOR_DIR)
        model = trainer_kwargs["model"]
        discriminator = (ColorizerGanDiscriminator.from_pretrained(saved) if model_args.init_from and saved.is_dir()
                         else ColorizerGanDiscriminator(model.config))
        trainer = cls(**trainer_kwargs, discriminator=discriminator, lambda_l1=model_args.lambda_l1,
                      discriminator_learning_rate=model_args.discriminator_learning_rate)
        return trainer.with_semantic_term(model_args).with_teacher(model_args)

    def save_extra_parts(self, folder) -> None:
        """The discriminator beside the generator, so `--init_from` can continue both."""
        self.discriminator.save_pretrained(Path(folder) / DISCRIMINATOR_DIR)

    def __init__(self, *args, discriminator: ColorizerGanDiscriminator, lambda_l1: float = 100.0,
                 discriminator_learning_rate: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.discriminator = discriminator.to(self.args.device)
        self.lambda_l1 = lambda_l1
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(),
            lr=discriminator_learning_rate or self.args.learning_rate,
            betas=(self.args.adam_beta1, self.args.adam_beta2),
        )

    def training_step(self, model, inputs, num_items_in_batch=None):
        model.train()
        self.discriminator.train()
        inputs = self._prepare_inputs(inputs)
        lightness, real_ab = inputs["pixel_values"], inputs["labels"]
        with self.compute_loss_context_manager():
            target_ab = self.reconstruction_target(lightness, real_ab)  # the truth, or its blend with a teacher's
            outputs = model(pixel_values=lightness, labels=target_ab)
        fake_ab = outputs.predicted_ab
        reconstruction = (
            self.compute_loss_func(outputs, target_ab) if self.compute_loss_func is not None else outputs.loss
        ).float()

        # 1. discriminator: real pairs -> 1, generated pairs -> 0 (generator detached)
        self.discriminator.requires_grad_(True)
        with self.compute_loss_context_manager():
            real = self.discriminator(lightness, real_ab).logits.float()
            fake = self.discriminator(lightness, fake_ab.detach()).logits.float()
            discriminator_loss = 0.5 * (
                F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))
            )
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        discriminator_loss.backward()
        self.discriminator_optimizer.step()

        # 2. generator: fool the (now frozen) discriminator, stay close to the truth and (with --semantic_weight)
        #    keep what a classifier sees in the photo
        self.discriminator.requires_grad_(False)
        with self.compute_loss_context_manager():
            judged = self.discriminator(lightness, fake_ab).logits.float()
            adversarial = F.binary_cross_entropy_with_logits(judged, torch.ones_like(judged))
            loss = adversarial + self.lambda_l1 * reconstruction
            semantic = None
            if self.semantic_loss is not None:
                semantic = self.semantic_loss(lightness, fake_ab, real_ab)
                loss = loss + self.semantic_weight * semantic
        if self.args.gradient_accumulation_steps > 1:
            loss = loss / self.args.gradient_accumulation_steps
        self.accelerator.backward(loss)
        self._last_gan_losses = {
            "discriminator_loss": discriminator_loss.item(), "adversarial_loss": adversarial.item(),
            "reconstruction_loss": reconstruction.item(),
            **({"semantic_loss": semantic.item()} if semantic is not None else {}),
        }
        return loss.detach()

    def log(self, logs, *args, **kwargs):
        if "loss" in logs and getattr(self, "_last_gan_losses", None):
            logs = {**logs, **{k: round(v, 5) for k, v in self._last_gan_losses.items()}}
        super().log(logs, *args, **kwargs)

    def _save_optimizer_and_scheduler(self, output_dir):
        super()._save_optimizer_and_scheduler(output_dir)
        if self.args.should_save:
            self.discriminator.save_pretrained(os.path.join(output_dir, DISCRIMINATOR_DIR))
            torch.save(self.discriminator_optimizer.state_dict(), os.path.join(output_dir, DISCRIMINATOR_OPTIMIZER))

    def _load_optimizer_and_scheduler(self, checkpoint):
        super()._load_optimizer_and_scheduler(checkpoint)
        if checkpoint is None:
            return
        weights = os.path.join(checkpoint, DISCRIMINATOR_DIR, "model.safetensors")
        self.discriminator.load_state_dict(load_file(weights, device=str(self.args.device)))
        state = torch.load(os.path.join(checkpoint, DISCRIMINATOR_OPTIMIZER), map_location=self.args.device,
                           weights_only=True)
        self.discriminator_optimizer.load_state_dict(state)
