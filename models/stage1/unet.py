"""A small U-Net: a normalised RGB page (N, 3, H, W) to a text probability map (N, 1, H, W)."""

import torch
from torch import nn
from torch.nn import functional


def double_conv(inputs: int, outputs: int) -> nn.Sequential:
    """Two 3x3 convolutions, each followed by batch norm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, padding=1, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
        nn.Conv2d(outputs, outputs, 3, padding=1, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """`levels` resolutions with `base_channels` doubling at each; H and W must be multiples of
    2 ** (levels - 1) (the server pads to multiples of 32). `forward` gives probabilities (what is exported),
    `logits` the values before the sigmoid (what is trained)."""

    def __init__(self, base_channels: int = 16, levels: int = 4) -> None:
        super().__init__()
        if levels < 2:
            raise ValueError(f"a U-Net needs at least 2 levels, not {levels}")
        widths = [base_channels * 2**level for level in range(levels)]
        self.encoder = nn.ModuleList(
            double_conv(inputs, outputs) for inputs, outputs in zip([3, *widths], widths, strict=False)
        )
        self.decoder = nn.ModuleList(
            double_conv(deeper + width, width)
            for deeper, width in zip(widths[:0:-1], widths[-2::-1], strict=True)
        )
        self.head = nn.Conv2d(widths[0], 1, 1)
        self.multiple = 2 ** (levels - 1)

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        """Text logits (N, 1, H, W) of a normalised image batch (N, 3, H, W)."""
        skips = []
        features = image
        for index, block in enumerate(self.encoder):
            if index:
                features = functional.max_pool2d(features, 2)
            features = block(features)
            skips.append(features)
        for block, skip in zip(self.decoder, skips[-2::-1], strict=True):
            features = functional.interpolate(
                features, scale_factor=2.0, mode="bilinear", align_corners=False
            )
            features = block(torch.cat([features, skip], dim=1))
        return self.head(features)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(image))
