"""The CRNN line recogniser: a small CNN folding the height into one row, a BiLSTM, one class per step."""

from dataclasses import dataclass

import torch
from torch import nn

HEIGHT_FACTOR = 16  # the CNN halves the height four times
WIDTH_FACTOR = 4  # ... and the width twice: one time step per 4 input columns


@dataclass(frozen=True)
class CrnnShape:
    """Input height, channels of the four CNN stages, and the recurrent part's size."""

    height: int = 32
    channels: tuple[int, int, int, int] = (32, 64, 96, 128)
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.1


def _stage(inputs: int, outputs: int, stride: tuple[int, int]) -> nn.Sequential:
    """A strided 3x3 convolution (cheaper on the CPU than convolution then pooling), batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(inputs, outputs, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(outputs),
        nn.ReLU(inplace=True),
    )


class Crnn(nn.Module):
    """(N, 3, H, W) normalised crops → (N, W / 4, classes) softmax probabilities (`logits` for training)."""

    def __init__(self, shape: CrnnShape, classes: int) -> None:
        super().__init__()
        if shape.height % HEIGHT_FACTOR:
            raise ValueError(f"the input height must be a multiple of {HEIGHT_FACTOR}, not {shape.height}")
        c1, c2, c3, c4 = shape.channels
        self.features = nn.Sequential(
            _stage(3, c1, (2, 2)), _stage(c1, c2, (2, 2)), _stage(c2, c3, (2, 1)), _stage(c3, c4, (2, 1))
        )
        self.rows = shape.height // HEIGHT_FACTOR
        self.fold = nn.Linear(c4 * self.rows, shape.hidden)
        self.sequence = nn.LSTM(
            shape.hidden,
            shape.hidden,
            num_layers=shape.layers,
            bidirectional=True,
            batch_first=True,
            dropout=shape.dropout if shape.layers > 1 else 0.0,
        )
        # The classes see the CNN's columns beside the BiLSTM's states: the shortcut lets CTC find the
        # characters in a few hundred steps, before the LSTM has learnt anything.
        self.classes = nn.Linear(3 * shape.hidden, classes)

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        """Unnormalised class scores (N, T, C)."""
        features = self.features(pixels)  # (N, C4, rows, T)
        columns = features.flatten(1, 2).permute(0, 2, 1)  # (N, T, C4 * rows)
        folded = torch.relu(self.fold(columns))
        steps, _ = self.sequence(folded)
        return self.classes(torch.cat([folded, steps], dim=-1))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.logits(pixels).softmax(dim=-1)


def time_steps(width: int) -> int:
    """Output length for an input `width` pixels wide."""
    return -(-width // WIDTH_FACTOR)
