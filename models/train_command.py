"""`iiif-train train stage1|stage2|trocr CONFIG --out DIR`: train from a YAML config, then export to ONNX."""

import argparse
import importlib
from pathlib import Path

TRAINERS = {
    "stage1": ("models.stage1.train", "the U-Net text-line segmenter (Stage 1)"),
    "stage2": ("models.stage2.train", "the CRNN + CTC line recogniser (Stage 2)"),
    "trocr": ("models.stage2.trocr", "fine-tune a TrOCR checkpoint from a local folder"),
}


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `train` with one sub-command per trainer."""
    train = commands.add_parser("train", help="train a model from a YAML config and export it to ONNX")
    stages = train.add_subparsers(dest="stage", required=True)
    for stage, (_, help_text) in TRAINERS.items():
        parser = stages.add_parser(stage, help=help_text)
        parser.add_argument("config", type=Path, help="YAML config (see models/configs/)")
        parser.add_argument("--out", type=Path, required=True, help="folder for checkpoint, ONNX, manifest")
        parser.add_argument("--device", default=None, help="torch device (default: cuda if present)")
        parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Train the chosen stage; its `run` prints where the exported manifest is."""
    module = importlib.import_module(TRAINERS[args.stage][0])
    module.run(args.config, args.out, args.device)
