"""`iiif-train fold MANIFEST --out DIR`: the model with its element-wise passes folded into its convolutions
(models/graph_folding.py), the same answers in less CPU time, and its manifest, for IIIF_ONNX_*_MANIFEST."""

import argparse
import json
from pathlib import Path

from .derived_manifest import derived_manifest, write_manifest


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `fold`."""
    fold = commands.add_parser(
        "fold", help="a copy of a model with fewer element-wise passes, and its manifest"
    )
    fold.add_argument("manifest", type=Path, help="the manifest of the model")
    fold.add_argument("--out", type=Path, required=True, help="folder for the model and its manifest")
    fold.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Fold the manifest's model into `--out` as `<manifest stem>_folded.onnx` and `.json`."""
    import onnx

    from ocr_onnx.manifest import file_sha256, load_manifest

    from .graph_folding import folded

    source = load_manifest(args.manifest)
    raw = json.loads(args.manifest.read_text(encoding="utf-8"))
    model, counts = folded(onnx.load(str(source.verify())))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"{args.manifest.stem}_folded"
    target = args.out / f"{stem}.onnx"
    onnx.save(model, str(target))
    how = "folded: " + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
    write_manifest(
        derived_manifest(raw, "folded", how, target.name, file_sha256(target)), args.out / f"{stem}.json"
    )
    print(f"wrote {target} and {args.out / f'{stem}.json'} ({how})")
