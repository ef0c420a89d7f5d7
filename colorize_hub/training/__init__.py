"""Training: `colorize-hub train` (`python -m colorize_hub.training.train`) on `transformers.Trainer`.

Owns the data sets (folders decoded lazily, weighted mixes, `datasets` ids), the k-means palette of a training
set, the crash-safe checkpoints and resume, the EMA and timing callbacks, the GAN's trainer and the regression
loss. It reads each architecture's needs (its trainer, its pretrained parts) from the model registry; may import
the inference core, the registry, evaluation's metrics and publishing's model card; inference never imports it.
"""
