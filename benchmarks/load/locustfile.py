"""Locust scenarios for `benchmarks/load/run`: tiles, masked regions and OCR sidecars on the sample pages.

Each scenario is one user class, chosen on locust's command line (`locust ... TileViewer`):

- `TileViewer`: an OpenSeadragon-like viewer on `page1` (6000x8000): the tile URLs OpenSeadragon's IIIF
  tile source builds from `info.json` (tile size and scale factors), a viewport of 3x2 tiles at a time at
  a random zoom level and position, and now and then `info.json` itself.
- `MaskedRegions`: the text lines of `page2` as `poly:` polygons (from `regions.json`) and as `pred:` ids.
- `Sidecars`: `regions.json` and `ocr.json` of `page2` (cached by the server after the first call) and
  `pred:{id}/ocr`.

Users are closed-loop (no think time), so the figures are the server's capacity on this machine.
A 503 that carries `Retry-After` is the server shedding load on purpose: it is counted under its own
name (`503 shed`), not as a failure. Any other status than 200, or a body that does not parse, is a failure.
"""

import json
import math
import random
import re
import urllib.request
from dataclasses import dataclass

from locust import FastHttpUser, constant, events, task

TILE_IMAGE = "page1"
OCR_IMAGE = "page2"
VIEWPORT_TILES = (3, 2)  # columns x rows of tiles a 1280x800 viewer shows with 512 px tiles
SHED = "503 shed"


@dataclass(frozen=True)
class Workload:
    """The URLs the users cycle through, built once per run from the server's own documents."""

    levels: list[list[list[str]]]  # per scale factor: rows of tile URLs
    polygons: list[str]  # `poly:` regions of the text lines of OCR_IMAGE
    predicted: list[str]  # `pred:` regions of OCR_IMAGE


WORKLOAD: Workload | None = None


def tile_url(identifier: str, x: int, y: int, w: int, h: int, scale: int) -> str:
    """OpenSeadragon's IIIF 3 tile URL: the region in full-image pixels, the size `w,h` it is shown at."""
    width, height = math.ceil(w / scale), math.ceil(h / scale)
    return f"/iiif/3/{identifier}/{x},{y},{w},{h}/{width},{height}/0/default.jpg"


def tile_levels(identifier: str, info: dict) -> list[list[list[str]]]:
    """Every tile URL of every advertised scale factor, as rows of a grid per level."""
    tiles = info["tiles"][0]
    size = tiles["width"]
    levels = []
    for scale in tiles["scaleFactors"]:
        step = size * scale
        rows = []
        for y in range(0, info["height"], step):
            row = [
                tile_url(identifier, x, y, min(step, info["width"] - x), min(step, info["height"] - y), scale)
                for x in range(0, info["width"], step)
            ]
            rows.append(row)
        levels.append(rows)
    return levels


def svg_points(selector: str) -> list[tuple[int, int]]:
    """The corners of an `SvgSelector` path (`M x,y L x,y ... Z`)."""
    return [(int(x), int(y)) for x, y in re.findall(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)", selector)]


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=120) as answer:
        return json.load(answer)


@events.test_start.add_listener
def build_workload(environment, **_kwargs) -> None:
    """Read `info.json` of the tiled page and `regions.json` of the OCR page (this also warms the cache)."""
    global WORKLOAD
    host = environment.host.rstrip("/")
    info = fetch_json(f"{host}/iiif/3/{TILE_IMAGE}/info.json")
    regions = fetch_json(f"{host}/iiif/3/{OCR_IMAGE}/regions.json")
    polygons, predicted = [], []
    for item in regions["items"]:
        points = svg_points(item["target"]["selector"]["value"])
        polygons.append("poly:" + ",".join(f"{x},{y}" for x, y in points))
        predicted.append("pred:" + item["id"].rsplit("/", 1)[-1])
    if not predicted:
        raise RuntimeError(f"{OCR_IMAGE} has no predicted regions: nothing to load-test")
    WORKLOAD = Workload(tile_levels(TILE_IMAGE, info), polygons, predicted)


class ServerUser(FastHttpUser):
    """Shared checks: 200 is success, 503 with Retry-After is shedding, anything else a failure."""

    abstract = True
    wait_time = constant(0)
    network_timeout = 60.0
    connection_timeout = 10.0

    @property
    def workload(self) -> Workload:
        assert WORKLOAD is not None, "the test_start listener builds the workload"
        return WORKLOAD

    def fetch(self, url: str, name: str, kind: str) -> None:
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code == 503 and response.headers.get("Retry-After"):
                response.request_meta["name"] = SHED
                response.success()
            elif response.status_code != 200:
                response.failure(f"{response.status_code}: {(response.text or '')[:120]}")
            elif kind == "json":
                try:
                    json.loads(response.content)
                except ValueError:
                    response.failure("the body is not JSON")
                else:
                    response.success()
            elif not response.content or response.headers.get("Content-Type", "").split("/")[0] != "image":
                response.failure(f"not an image: {response.headers.get('Content-Type')}")
            else:
                response.success()


class TileViewer(ServerUser):
    """Pans and zooms over the 6000x8000 pyramid: one 3x2 viewport of tiles per task."""

    @task(12)
    def viewport(self) -> None:
        levels = self.workload.levels
        rows = random.choice(levels)
        cols, nrows = VIEWPORT_TILES
        top = random.randrange(max(1, len(rows) - nrows + 1))
        left = random.randrange(max(1, len(rows[0]) - cols + 1))
        for row in rows[top : top + nrows]:
            for url in row[left : left + cols]:
                self.fetch(url, "tile", "image")

    @task(1)
    def info(self) -> None:
        self.fetch(f"/iiif/3/{TILE_IMAGE}/info.json", "info.json", "json")


class MaskedRegions(ServerUser):
    """Cuts the text lines of the OCR page out as masked PNGs, by polygon and by predicted id."""

    @task
    def polygon(self) -> None:
        region = random.choice(self.workload.polygons)
        self.fetch(f"/iiif/3/{OCR_IMAGE}/{region}/max/0/default.png", "poly: line", "image")

    @task
    def predicted(self) -> None:
        region = random.choice(self.workload.predicted)
        self.fetch(f"/iiif/3/{OCR_IMAGE}/{region}/max/0/default.png", "pred: line", "image")


class Sidecars(ServerUser):
    """Reads the OCR page's sidecars and the text of single predicted lines."""

    @task
    def regions(self) -> None:
        self.fetch(f"/iiif/3/{OCR_IMAGE}/regions.json", "regions.json", "json")

    @task
    def ocr(self) -> None:
        self.fetch(f"/iiif/3/{OCR_IMAGE}/ocr.json", "ocr.json", "json")

    @task(2)
    def line_text(self) -> None:
        region = random.choice(self.workload.predicted)
        self.fetch(f"/iiif/3/{OCR_IMAGE}/{region}/ocr", "pred: line /ocr", "json")
