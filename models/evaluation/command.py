"""`iiif-train evaluate stage1 PAGES` and `iiif-train evaluate stage2 DATASET`: score a model, write the
JSON and Markdown reports (and for Stage 2 a PNG of CER by group) into `--out`, print the table."""

import argparse
import sys
from dataclasses import replace
from pathlib import Path


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `evaluate` with its `stage1` and `stage2` sub-commands."""
    evaluate = commands.add_parser(
        "evaluate", help="score a detector or recogniser; write JSON, Markdown, PNG"
    )
    stages = evaluate.add_subparsers(dest="stage", required=True)
    stage1 = stages.add_parser("stage1", help="COCO mask AP of a line detector on annotated pages")
    stage1.add_argument(
        "pages", type=Path, help="folder of page images, each with NAME.page.xml (or .gt.xml …)"
    )
    stage1.add_argument("--manifest", type=Path, help="detector manifest (default: the server's)")
    stage1.add_argument(
        "--min-confidence", type=float, help="lowest line confidence kept (default: the server's)"
    )
    stage2 = stages.add_parser("stage2", help="CER, WER and exact match of a recogniser on a dataset split")
    stage2.add_argument("dataset", type=Path, help="dataset folder made by `iiif-train dataset build`")
    stage2.add_argument("--split", default="test", help="train, val or test (default: test)")
    stage2.add_argument("--manifest", type=Path, help="recogniser manifest (default: the server's)")
    for parser in (stage1, stage2):
        parser.add_argument("--out", type=Path, required=True, help="folder for the reports")
        parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> None:
    """Load the model the server would use (or `--manifest`), evaluate, print the Markdown table."""
    from extensions.server_settings import ServerSettings
    from ocr_onnx import ModelRegistry

    server = ServerSettings.from_env()
    settings = server.onnx
    try:
        if args.stage == "stage1":
            from .stage1_eval import evaluate_pages

            if args.manifest:
                settings = replace(settings, detection_manifest=args.manifest)
            detector = ModelRegistry(settings).detector()
            min_confidence = args.min_confidence
            if min_confidence is None:
                min_confidence = server.ocr.min_confidence
            table = evaluate_pages(args.pages, detector, min_confidence, args.out)
        else:
            from .stage2_eval import evaluate_dataset

            if args.manifest:
                settings = replace(settings, recognition_manifest=args.manifest)
            table = evaluate_dataset(args.dataset, args.split, ModelRegistry(settings).recognizer(), args.out)
    except (OSError, ValueError) as error:
        sys.exit(f"iiif-train evaluate {args.stage}: {error}")
    print(table, end="")
    print(f"reports in {args.out}", file=sys.stderr)
