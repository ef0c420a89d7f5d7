"""Zhang, Isola & Efros, "Colorful Image Colorization" (ECCV 2016): the network as the paper describes it.

Written from the paper's architecture table for timing only (random weights): 8 conv blocks of 2-3 3x3 convs
(64-128-256-512 channels, stride 2 at the end of blocks 1-3, dilation 2 in blocks 5-6, BatchNorm after each
block), a transposed conv back to 1/4 resolution, 313 colour-bin logits, annealed-mean decoding to ab, x4
upsampling. About 32M parameters.
"""

import torch
from torch import nn


def _block(in_channels, out_channels, convs, stride=1, dilation=1):
    layers = []
    for index in range(convs):
        last = index == convs - 1
        layers += [
            nn.Conv2d(in_channels if index == 0 else out_channels, out_channels, 3,
                      stride=stride if last else 1, padding=dilation, dilation=dilation),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers, nn.BatchNorm2d(out_channels))


class ECCV16Colorizer(nn.Module):
    def __init__(self, num_bins: int = 313):
        super().__init__()
        self.features = nn.Sequential(
            _block(1, 64, 2, stride=2), _block(64, 128, 2, stride=2), _block(128, 256, 3, stride=2),
            _block(256, 512, 3), _block(512, 512, 3, dilation=2), _block(512, 512, 3, dilation=2),
            _block(512, 512, 3),
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, num_bins, 1),
        )
        self.bins_to_ab = nn.Conv2d(num_bins, 2, 1, bias=False)  # the annealed mean as a 1x1 conv
        self.upsample = nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False)

    def forward(self, lightness: torch.Tensor) -> torch.Tensor:
        # (B, 1, H, W) -> logits (B, 313, H/4, W/4) -> ab (B, 2, H/4, W/4) -> (B, 2, H, W)
        logits = self.features(lightness)
        return self.upsample(self.bins_to_ab(torch.softmax(logits / 0.38, dim=1)))
