"""Mirador in a real browser: Debian's headless Chromium, driven by Playwright, on the real server.

The server runs as a subprocess on loopback over one generated 1200x900 page of known text (the OCR runs on
the CPU: a few seconds). The browser must fetch everything from that server (no CDN), Mirador must ask for
the image's info.json and tiles, paint the page, and list the OCR lines from ocr.json in its annotation
panel; selecting a line shows it masked in the region panel. Screenshots go to `artifacts/`.
"""

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from conformance.live_server import LiveServer, running_server
from extensions.viewer import MIRADOR_BUNDLE, VIEWER_FOLDER
from iiif_server.samples import SAMPLE_LINES, PageLine, document_page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
WAIT_MS = 90_000  # the first ocr.json runs both models on the CPU

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason="Debian's chromium is not installed (scripts/setup --test installs it with apt-get as root)",
)


@dataclass
class LoadedViewer:
    """The Mirador page after load, with every response the browser got."""

    server: LiveServer
    page: Page
    lines: list[PageLine]
    responses: list[tuple[str, int]] = field(default_factory=list)

    def from_server(self, path_part: str) -> list[tuple[str, int]]:
        """The responses from this server whose URL contains `path_part`."""
        return [(u, s) for u, s in self.responses if u.startswith(self.server.base_url) and path_part in u]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def viewer(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[LoadedViewer]:
    """`/viewer/page` loaded, its annotation list filled and its canvas painted."""
    assert (VIEWER_FOLDER / MIRADOR_BUNDLE).is_file(), "Mirador is not installed: run scripts/setup"
    ARTIFACTS.mkdir(exist_ok=True)
    folder = tmp_path_factory.mktemp("viewer-page")
    image, lines = document_page(1200, 900, SAMPLE_LINES, seed=5)
    image.pngsave(str(folder / "page.png"))
    with running_server(folder) as server:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        loaded = LoadedViewer(server, page, lines)
        page.on("response", lambda response: loaded.responses.append((response.url, response.status)))
        page.goto(f"{server.base_url}/viewer/page")
        page.get_by_text("Showing ").wait_for(timeout=WAIT_MS)
        page.wait_for_load_state("networkidle")
        yield loaded
        page.close()


def canvas_pixels(page: Page) -> np.ndarray:
    """The OpenSeadragon canvas as an RGB array."""
    png = page.locator(".openseadragon-canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)


def test_everything_comes_from_this_server(viewer: LoadedViewer) -> None:
    urls = [url for url, _ in viewer.responses]
    assert f"{viewer.server.base_url}/viewer/assets/mirador.min.js" in urls
    assert [u for u in urls if not u.startswith((viewer.server.base_url, "data:"))] == []
    assert [(u, s) for u, s in viewer.responses if s >= 400] == []


def test_mirador_asks_this_server_for_the_manifest_info_json_tiles_and_ocr(viewer: LoadedViewer) -> None:
    assert viewer.from_server("/iiif/presentation/page/manifest.json")
    assert viewer.from_server("/iiif/3/page/info.json")
    assert viewer.from_server("/iiif/3/page/ocr.json")
    tiles = [u for u, _ in viewer.from_server("/iiif/3/page/") if u.endswith("/0/default.jpg")]
    assert [u for u in tiles if "/full/" not in u], f"no tile among {tiles}"


def test_the_canvas_shows_the_page(viewer: LoadedViewer) -> None:
    viewer.page.screenshot(path=str(ARTIFACTS / "viewer-mirador.png"))
    pixels = canvas_pixels(viewer.page)
    red, blue = pixels[..., 0], pixels[..., 2]
    paper = (red > 200) & (red - blue > 10)  # the page's paper colour, not Mirador's grey background
    assert paper.mean() > 0.3, f"only {paper.mean():.0%} of the canvas is paper-coloured"
    assert pixels.mean(axis=2).std() > 8, "the canvas is nearly uniform: nothing was painted"


def test_the_annotation_list_shows_the_ocr_lines(viewer: LoadedViewer) -> None:
    ocr = viewer.page.request.get(f"{viewer.server.base_url}/iiif/3/page/ocr.json").json()
    texts = [item["body"]["value"] for item in ocr["items"] if item["body"]["textGranularity"] == "line"]
    assert len(texts) >= 20
    viewer.page.get_by_text(f"Showing {len(ocr['items'])} annotations").wait_for()  # its blocks and lines
    listed = viewer.page.locator("body").inner_text()
    assert [text for text in texts if text not in listed] == []
    assert {line.text for line in viewer.lines} & set(texts), "no OCR line matches the page's text"


def test_selecting_a_line_shows_it_masked_beside_the_original(viewer: LoadedViewer) -> None:
    page = viewer.page
    page.get_by_text("The quick brown fox jumps over the lazy dog.", exact=True).first.click()  # a line
    masked = page.locator("#region-panel figure.masked img")
    masked.wait_for()
    page.wait_for_function(
        "[...document.querySelectorAll('#region-panel img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    assert "region=pred%3Ar" in page.url
    assert "/pred:r" in (masked.get_attribute("src") or "")
    page.screenshot(path=str(ARTIFACTS / "viewer-masked-region.png"))
