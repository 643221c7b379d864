"""The Latin recogniser: PP-OCRv4's backbone and a new classifier over the Latin charset."""

from pathlib import Path

import onnxruntime as ort
import torch

from models.stage2.charset import Charset

from .charset import old_classes, seed_class
from .ppocr_graph import Backbone, load_backbone


class LatinRecognizer(torch.nn.Module):
    """(N, 3, 48, W) normalised BGR lines → (N, W / 8, classes) probabilities (`logits` before softmax)."""

    def __init__(self, backbone: Backbone, head: torch.nn.Linear) -> None:
        super().__init__()
        self.backbone, self.head = backbone.module, head
        self.ppocr = backbone  # where each weight goes in the ONNX graph (export)

    def logits(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(pixels))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.logits(pixels).softmax(-1)

    def train(self, mode: bool = True) -> "LatinRecognizer":
        """Train mode, batch norms' statistics frozen: batches of a few padded lines would skew them."""
        super().train(mode)
        for module in self.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self


def from_ppocr(onnx_path: Path, charset: Charset) -> LatinRecognizer:
    """PP-OCRv4's recogniser with a classifier for `charset`: each row starts as the old row of the same
    character, its base letter or look-alike (`seed_class`), the rest as the old rows' mean; blank kept."""
    backbone = load_backbone(onnx_path)
    weight, bias = backbone.weight, backbone.bias
    old = old_classes(_ppocr_classes(onnx_path))
    head = torch.nn.Linear(weight.shape[0], len(charset))
    with torch.no_grad():
        head.weight.copy_(weight.mean(dim=1, keepdim=True).T.expand_as(head.weight))
        head.bias.fill_(float(bias.mean()))
        for index, character in enumerate(charset.classes):
            source = 0 if index == 0 else seed_class(character, old)
            if source is not None:
                head.weight[index], head.bias[index] = weight[:, source], bias[source]
    return LatinRecognizer(backbone, head)


def _ppocr_classes(onnx_path: Path) -> tuple[str, ...]:
    """The old model's classes as the server reads them: blank, the `character` metadata lines, space."""
    metadata = ort.InferenceSession(str(onnx_path)).get_modelmeta().custom_metadata_map
    return ("", *metadata["character"].splitlines(), " ")
