"""`iiif-train synth FOLDER [--pages N] [--seed S] [--width W --height H]`: write synthetic pages."""

import argparse
from pathlib import Path


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `synth` to `iiif-train`."""
    parser = commands.add_parser(
        "synth",
        help="write synthetic document pages with ground truth (PNG, PAGE XML, W3C annotations)",
        description="Render pages of text in real fonts (straight, slanted, rotated and curved lines) on "
        "paper, each as NAME.png with NAME.page.xml and NAME.w3c.json; the same seed gives the same files.",
    )
    parser.add_argument("folder", type=Path, help="where the pages go (made if missing)")
    parser.add_argument("--pages", type=int, default=10, help="how many pages (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the whole run (default 0)")
    parser.add_argument(
        "--width", type=int, default=1240, help="page width in pixels (default 1240: A4 at 150 dpi)"
    )
    parser.add_argument("--height", type=int, default=1754, help="page height in pixels (default 1754)")
    parser.set_defaults(run=run)


def run(arguments: argparse.Namespace) -> None:
    """Write the pages and say where they are."""
    from .pages import generate_pages

    if arguments.pages < 1 or min(arguments.width, arguments.height) < 200:
        raise SystemExit("synth: --pages must be at least 1, --width and --height at least 200")
    paths = generate_pages(
        arguments.folder, arguments.pages, arguments.seed, (arguments.width, arguments.height)
    )
    print(f"wrote {len(paths)} pages to {arguments.folder}")
