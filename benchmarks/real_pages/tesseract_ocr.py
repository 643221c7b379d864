"""Debian's Tesseract as the peer engine: each page read to ALTO, its TextLines scored like the server's.

Tesseract runs with `OMP_THREAD_LIMIT=1`: with its OpenMP threads a page took ten times as long on a
shared 2-core machine (10.3 s against 1.1 s, most of it system time spent by threads waiting for work).
"""

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Collection
from pathlib import Path

from extensions.annotations import alto_xml

from .lines import PageReading, read_lines

LANGUAGES = {"gallica18-fr": "fra+eng", "ehri-de": "deu", "ehri-da": "dan", "stanford-en": "eng"}
"""Tesseract languages per data set (the Gallica dev book has an English dedication)."""
PAGE_TIMEOUT = 600.0  # seconds for one page
SETUP = "benchmarks/real_pages/setup.sh"


def missing_tesseract(datasets: Collection[str]) -> str | None:
    """Why Tesseract cannot read these data sets' pages, or None when it can."""
    unknown = sorted(set(datasets) - set(LANGUAGES))
    if unknown:
        return f"no Tesseract language is set for {', '.join(unknown)} (tesseract_ocr.LANGUAGES)"
    if shutil.which("tesseract") is None:
        return f"tesseract is not installed (run {SETUP} as root)"
    listed = subprocess.run(
        ["tesseract", "--list-langs"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    wanted = {name for dataset in datasets for name in LANGUAGES[dataset].split("+")}
    missing = sorted(wanted - set(listed))
    return f"tesseract lacks the languages {', '.join(missing)} (run {SETUP} as root)" if missing else None


def tesseract_version() -> str:
    """The first line of `tesseract --version` (`tesseract 5.3.0`)."""
    shown = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=True, timeout=60)
    return (shown.stdout or shown.stderr).splitlines()[0].strip()


def read_with_tesseract(image: Path, languages: str) -> PageReading:
    """Tesseract's lines of one page image (page segmentation at its default, automatic) and its seconds."""
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "page"
        command = ["tesseract", str(image), str(output), "-l", languages, "alto"]
        started = time.perf_counter()
        subprocess.run(
            command,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            capture_output=True,
            check=True,
            timeout=PAGE_TIMEOUT,
        )
        seconds = time.perf_counter() - started
        alto = output.with_suffix(".xml").read_bytes()
    return PageReading(read_lines(alto_xml.parse(alto)), seconds)
