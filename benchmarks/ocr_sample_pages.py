"""Read the sample pages with the OCR extension's PageReader and score it against their ground truth.

    python -m benchmarks.ocr_sample_pages [--folder samples/generated] [--detection-side 1600] [page1 page2]

Stage 1 (line detection) and Stage 2 (recognition of every detected line) run as the server runs them,
in process, on the pages `iiif-server samples` writes (written first when missing) with a fresh cache.
Each page's ground truth is its `{page}.gt.xml`. A detected line matches a true line when the IoU of their
bounding boxes is at least 0.5 (one-to-one, best first); recall and precision count those matches. CER and
WER compare the page's text (lines in reading order, joined by newlines) with the true text. Times are
wall-clock seconds of the first (uncached) call of each stage; model loading is done before.
"""

import argparse
import asyncio
import time
from dataclasses import replace
from pathlib import Path

from extensions.annotations import page_xml
from extensions.page_reader import Page, PageReader, described
from extensions.prediction_cache import PredictionCache
from extensions.server_settings import ServerSettings
from iiif_server.image_sources import FolderPages
from iiif_server.samples import generate_samples
from iiif_server.settings import DEFAULT_IMAGE_ROOT
from iiif_server.sources import FolderSource

from .ocr_metrics import box_of, cer, match_boxes, wer

IOU_THRESHOLD = 0.5


async def score_page(reader: PageReader, folder: Path, page: Page) -> dict[str, float]:
    """Run both stages on one page and compare with its ground truth."""
    ground_truth = page_xml.parse((folder / f"{page.identifier}.gt.xml").read_bytes())
    truth = [r for r in ground_truth if r.text is not None]
    started = time.perf_counter()
    lines = await reader.regions(page, 0.0, 0.0)
    detected = time.perf_counter()
    read = await reader.read_page(page, 0.0, 0.0)
    recognised = time.perf_counter()
    detection = match_boxes(
        [box_of(r.polygon) for r in truth], [box_of(r.polygon) for r in lines], IOU_THRESHOLD
    )
    true_text = "\n".join(r.text or "" for r in truth)
    read_text = "\n".join(r.text or "" for r in read)
    return {
        "gt lines": len(truth),
        "detected": len(lines),
        "recall": detection.recall,
        "precision": detection.precision,
        "CER": cer(true_text, read_text),
        "WER": wer(true_text, read_text),
        "detect s": detected - started,
        "recognise s": recognised - detected,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", default=["page1", "page2"])
    parser.add_argument("--folder", type=Path, default=DEFAULT_IMAGE_ROOT)
    parser.add_argument("--detection-side", type=int, help="OCRSettings.detection_side (default: its own)")
    args = parser.parse_args()
    for path in generate_samples(args.folder):
        print(f"wrote {path}")

    from ocr_onnx import default_registry

    server = ServerSettings.from_env()
    settings = server.ocr
    if args.detection_side:
        settings = replace(settings, detection_side=args.detection_side)
    registry = default_registry(server.onnx)
    registry.warm_up()
    max_side = registry.settings.detection_max_side or registry.detector().manifest.input_size
    print(f"detection_side={settings.detection_side}, detector input at most {max_side} px")
    names = ("gt lines", "detected", "recall", "precision", "CER", "WER", "detect s", "recognise s")
    print("| page | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    pages = FolderPages(FolderSource(args.folder, 1_000_000_000, 64))
    for identifier in args.pages:
        reader = PageReader(registry, settings, PredictionCache(settings.cache_mb << 20, settings.cache_size))
        page = asyncio.run(described(pages, identifier))
        source = page.image
        scores = asyncio.run(score_page(reader, args.folder, page))
        cells = [f"{v:.0f}" if k in ("gt lines", "detected") else f"{v:.3f}" for k, v in scores.items()]
        print(f"| {identifier} ({source.width}x{source.height}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
