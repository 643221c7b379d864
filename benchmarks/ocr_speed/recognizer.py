"""Stage 2's network alone, on the line crops the server cuts from real pages: how the crops are batched, how
ONNX Runtime's threads wait, and other model files (the float `latin_rec.json` the default is folded from,
an INT8 copy), side by side in one run.

    python -m benchmarks.ocr_speed.recognizer [--pages ID …] [--rounds 2] [--models MANIFEST …]

The crops are taken from the server itself (in process, its defaults): its recogniser is wrapped so that
`ocr.json` of each page hands over the crops it reads. Each variant then reads all of them once per round,
in turn; the table gives wall-clock and process CPU seconds per round (CPU is steadier on a shared machine)
and how many crops read exactly as the first variant read them.
"""

import argparse
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from starlette.testclient import TestClient

from extensions.ocr import ocr_extension
from extensions.server_settings import ServerSettings
from iiif_server.app import create_app
from ocr_onnx import ModelRegistry, load_manifest
from ocr_onnx.recognition import BATCH_COLUMNS, TextRecognizer
from ocr_onnx.sessions import session_options

from .__main__ import DEFAULT_DATA

PAGES = ("ehri-dr-19440419-dk-01", "g18-bpt6k70173w-f5")
UNBOUNDED = 1 << 30


class CapturedCrops:
    """A model registry whose recogniser keeps every crop it is given."""

    def __init__(self, registry: ModelRegistry) -> None:
        self.registry = registry
        self.crops: list[np.ndarray] = []

    def recognizer(self) -> Any:
        inner, crops = self.registry.recognizer(), self.crops

        class Capturing:
            manifest = inner.manifest

            def recognize(self, given: list[np.ndarray]) -> Any:
                crops.extend(given)
                return inner.recognize(given)

        return Capturing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.registry, name)


def page_crops(data: Path, pages: Sequence[str]) -> tuple[list[np.ndarray], ServerSettings]:
    """The crops Stage 2 reads on `pages`, cut by the server at its defaults."""
    settings = ServerSettings.from_env({"IIIF_IMAGE_ROOT": str(data / "images")})
    captured = CapturedCrops(ModelRegistry(settings.onnx))
    app = create_app(settings.core, [ocr_extension(settings.ocr, captured)])
    with TestClient(app) as client:
        for page in pages:
            response = client.get(f"/iiif/3/{page}/ocr.json")
            if response.status_code != 200:
                raise SystemExit(f"{page}: {response.status_code} {response.text[:200]}")
    return captured.crops, settings


def variants(settings: ServerSettings, models: Sequence[Path]) -> dict[str, Any]:
    """The recognisers compared: the way Stage 2 ran before (batches of 8, ONNX Runtime's own threads, which
    spin), each change in turn, the server's recogniser now (its registry's), and the same with `models`."""
    manifest = load_manifest(settings.onnx.recognition_manifest)
    path = str(manifest.verify())
    spinning = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    sleeping = ort.InferenceSession(path, session_options(settings.onnx), providers=["CPUExecutionProvider"])
    chosen = {
        "before: 8 a batch, spinning threads": TextRecognizer(spinning, manifest, 8, UNBOUNDED),
        "8 a batch, cores a run, no spinning": TextRecognizer(sleeping, manifest, 8, UNBOUNDED),
        "one by one, cores a run": TextRecognizer(sleeping, manifest, 1),
        f"width batches ({BATCH_COLUMNS} columns), cores a run": TextRecognizer(sleeping, manifest, 8),
        "now: width batches, cores at once, one thread each": ModelRegistry(settings.onnx).recognizer(),
    }
    for other in models:
        recognizer = ModelRegistry(replace(settings.onnx, recognition_manifest=other)).recognizer()
        chosen[f"now, {recognizer.manifest.name}"] = recognizer
    return chosen


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pages", nargs="+", default=list(PAGES))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", type=Path, nargs="*", default=[], help="other recognisers' manifests")
    args = parser.parse_args(argv)
    crops, settings = page_crops(args.data, args.pages)
    recognizers = variants(settings, args.models)
    seconds = {name: [0.0, 0.0] for name in recognizers}
    texts: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, recognizer in recognizers.items():
            wall, cpu = time.perf_counter(), time.process_time()
            texts[name] = [read.text for read in recognizer.recognize(crops)]
            seconds[name][0] += time.perf_counter() - wall
            seconds[name][1] += time.process_time() - cpu
    first = next(iter(texts.values()))
    print(f"{len(crops)} crops of {len(args.pages)} pages, {args.rounds} rounds\n")
    print("| variant | wall s | CPU s | crops read as the first |\n|---|---:|---:|---:|")
    for name, (wall, cpu) in seconds.items():
        same = sum(a == b for a, b in zip(first, texts[name], strict=True))
        print(f"| {name} | {wall / args.rounds:.2f} | {cpu / args.rounds:.2f} | {same}/{len(crops)} |")


if __name__ == "__main__":
    main()
