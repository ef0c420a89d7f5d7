"""Publishing: what leaves the machine with a checkpoint.

Owns the model card, the Hub upload (`colorize-hub push`: weights, configs, remote code, card with model-index)
and the ONNX export. May import the inference core, the model registry and the checkpoint lookup; inference never
imports it.
"""
