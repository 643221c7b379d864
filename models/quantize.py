"""`iiif-train quantize MANIFEST --out DIR`: an INT8 copy of an ONNX model (ONNX Runtime's dynamic
quantisation) and its manifest, for the server's IIIF_ONNX_*_MANIFEST settings."""

import argparse
import json
from pathlib import Path

from .derived_manifest import derived_manifest, write_manifest

# Conv quantised too made PP-OCRv4's recogniser read 1 line in 60 as before, three times slower (ConvInteger);
# MatMul and Gemm alone kept 56 in 60 (benchmarks/ocr_speed).
DEFAULT_OPS = ("MatMul", "Gemm")


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `quantize`."""
    quantize = commands.add_parser("quantize", help="an INT8 copy of a model and its manifest")
    quantize.add_argument("manifest", type=Path, help="the manifest of the float model")
    quantize.add_argument("--out", type=Path, required=True, help="folder for the model and its manifest")
    quantize.add_argument("--ops", nargs="+", default=list(DEFAULT_OPS), help="operator types to quantise")
    quantize.set_defaults(run=run)


def with_initializers(model_path: Path, target: Path) -> Path:
    """The model with its `Constant` weights stored as initializers (as Paddle's exports keep them), which
    the quantiser needs to find them."""
    import onnx

    from .graph_folding import constants_as_initializers

    onnx.save(constants_as_initializers(onnx.load(str(model_path))), str(target))
    return target


def run(args: argparse.Namespace) -> None:
    """Quantise the manifest's model into `--out` and write `<name>-int8.json` beside it."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from ocr_onnx.manifest import file_sha256, load_manifest

    source = load_manifest(args.manifest)
    raw = json.loads(args.manifest.read_text(encoding="utf-8"))
    args.out.mkdir(parents=True, exist_ok=True)
    staged = with_initializers(source.verify(), args.out / f".{source.name}-float.onnx")
    target = args.out / f"{source.name}-int8.onnx"
    try:
        quantize_dynamic(staged, target, weight_type=QuantType.QInt8, op_types_to_quantize=list(args.ops))
    finally:
        staged.unlink()
    how = f"INT8 dynamic quantisation of {'/'.join(args.ops)}"
    manifest = derived_manifest(raw, "int8", how, target.name, file_sha256(target))
    manifest_path = args.out / f"{source.name}-int8.json"
    write_manifest(manifest, manifest_path)
    print(f"wrote {target} and {manifest_path}")
