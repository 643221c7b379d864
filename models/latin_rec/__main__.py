"""Fine-tune PP-OCRv4's recogniser into a Latin one on a line dataset, for a fixed number of minutes.

    python -m models.latin_rec --data runs/latin/train_mask --out runs/latin/mask [--minutes 12]
        [--threads 2] [--seed 0] [--resume runs/latin/mask/checkpoint.pt] [--name latin-rec] [--version 1]

Writes checkpoint.pt, model.onnx, manifest.json (the dataset's crop recipe), metrics.json and features.pt
(reused by a later run into the same --out) into --out.
"""

import argparse
import json
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from models.dataset.records import read_dataset
from models.stage2.line_batches import LineSample
from models.stage2.torch_threads import torch_threads
from ocr_onnx.manifest import load_manifest

from .charset import LATIN
from .export import NORMALISATION, export, save_checkpoint
from .finetune import FineTuning, finetune, pooled_features
from .lines import dataset_lines
from .recognizer import LatinRecognizer, from_ppocr

REPOSITORY = Path(__file__).resolve().parents[2]
PPOCR_MANIFEST = REPOSITORY / "ocr_onnx" / "manifests" / "ppocrv4_rec.json"
FEATURES = "features.pt"  # the frozen stages' output per line, kept for a later run on the same lines


def arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a folder from `iiif-train dataset build`")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=FineTuning.minutes)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (0: torch's default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--resume", type=Path, help="a checkpoint.pt to start from instead of PP-OCRv4's rows"
    )
    parser.add_argument("--name", default="latin-rec")
    parser.add_argument("--version", default="1")
    return parser.parse_args(argv)


def cached_features(
    path: Path, source: Path, model: LatinRecognizer, lines: list[LineSample]
) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The lines' frozen-stage features, from `path` when an earlier run of the same lines left them there
    (float16), else made and saved."""
    if path.is_file():
        saved = torch.load(path, weights_only=True)
        if saved["texts"] == [line.text for line in lines]:
            return [feature.float() for feature in saved["features"]], saved["padding"].float()
    features, padding = pooled_features(source, model, lines, NORMALISATION, FineTuning.batch_size)
    texts = [line.text for line in lines]
    torch.save({"texts": texts, "features": [f.half() for f in features], "padding": padding.half()}, path)
    print(f"features of {len(lines)} lines saved to {path}", flush=True)
    return features, padding


def main(argv: Sequence[str] | None = None) -> None:
    """Load the lines, fine-tune, export, and record what was done."""
    args = arguments(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    info, _ = read_dataset(args.data)
    lines, left_out = dataset_lines(args.data, LATIN)
    print(f"{len(lines)} lines; left out for characters outside the charset: {dict(left_out)}", flush=True)
    plan = FineTuning(minutes=args.minutes, seed=args.seed)
    with torch_threads(args.threads):
        source = load_manifest(PPOCR_MANIFEST).verify()
        model = from_ppocr(source, LATIN)
        if args.resume:
            model.load_state_dict(torch.load(args.resume, map_location="cpu", weights_only=True))
        started = time.monotonic()
        features, padding = cached_features(args.out / FEATURES, source, model, lines)
        feature_minutes = (time.monotonic() - started) / 60
        log = finetune(model, plan, LATIN, lines, features, padding)
        minutes = (time.monotonic() - started) / 60 - feature_minutes
        save_checkpoint(model, args.out / "checkpoint.pt")
        manifest, difference = export(
            source, model, LATIN, lines, info.crop, args.out, name=args.name, version=args.version
        )
    metrics = {
        "data": str(args.data),
        "lines": len(lines),
        "left_out_characters": dict(left_out),
        "crop": asdict(info.crop),
        "training": asdict(plan),
        "feature_minutes": round(feature_minutes, 1),
        "training_minutes": round(minutes, 1),
        "resumed_from": str(args.resume) if args.resume else None,
        "threads": args.threads,
        "cpu": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "onnx_max_difference": difference,
        "log": log,
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    print(f"IIIF_ONNX_REC_MANIFEST={manifest.path.parent / 'manifest.json'}")


if __name__ == "__main__":
    main()
