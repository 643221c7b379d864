"""Memory and limits under hostile requests: bounded caches and bodies, limits after rotation, huge numbers,
deep JSON, undecodable pixels, the anonymous pixel budget and bounded error texts; never a 500."""

import json
import math
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import anyio
import numpy as np
import pytest
import pyvips
from starlette.applications import Starlette
from starlette.testclient import TestClient

from extensions import polygon_mask, polygon_region
from extensions.annotations.model import AnnotatedRegion
from extensions.job_settings import JobSettings
from extensions.mask_settings import MaskSettings
from extensions.masking import masking_extension
from extensions.ocr_settings import OCRSettings
from extensions.polygon_region import polygon_parser
from extensions.prediction_cache import PredictionCache
from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.access import token_digest
from iiif_server.app import create_app
from iiif_server.image_request import parse_image_request
from iiif_server.plan import plan
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Limits, Settings
from iiif_server.sources import FolderSource


def decoded(body: bytes) -> pyvips.Image:
    """A response body decoded by libvips (pixels read, not only the header)."""
    image = pyvips.Image.new_from_buffer(body, "")
    assert image.avg() >= 0
    return image


@pytest.fixture
def masking_client(image_root: Path) -> Iterator[TestClient]:
    """The core with the masking extension, its caches limited to 1 MB each."""
    extension = masking_extension(MaskSettings(mask_cache_mb=1, polygon_cache_mb=1))
    with TestClient(create_app(Settings(image_root=image_root), [extension])) as client:
        yield client


# Every in-process cache is bounded by bytes.


def test_the_mask_cache_stays_under_its_byte_limit_after_many_distinct_masks(
    masking_client: TestClient,
) -> None:
    for i in range(40):  # each mask 200 x 400 = 80 KB: 3.2 MB in all against a 1 MB limit
        region = f"poly:{i},10,{i + 1},10,{i + 1},12"
        response = masking_client.get(f"/iiif/3/grid/{region}/^200,400/0/default.png")
        assert response.status_code == 200, response.text
        image = decoded(response.content)
        assert (image.width, image.height, image.bands) == (200, 400, 4)
    rasters = polygon_mask.MASK_RASTERS
    assert 0 < rasters.bytes_held <= 1 << 20
    assert 0 < len(rasters) < 40


def test_the_resolved_polygon_cache_stays_under_its_byte_limit(masking_client: TestClient) -> None:
    parse = polygon_parser(5000)
    for i in range(40):  # each polygon 2000 vertices (about 250 KB with its text) against a 1 MB limit
        ring = [(200 + 100 * math.cos(t), 150 + 100 * math.sin(t)) for t in np.linspace(0, 6, 2000) + i / 100]
        parse(",".join(f"{x:.4f},{y:.4f}" for x, y in ring)).resolve(400, 300)
    resolved = polygon_region.RESOLVED_POLYGONS
    assert 0 < resolved.bytes_held <= 1 << 20
    assert 0 < len(resolved) < 40


def test_open_image_handles_stay_under_their_byte_limit(image_root: Path) -> None:
    source = FolderSource(image_root, 10**9, cache_size=64, cache_bytes=1 << 20)
    for identifier in ("grid", "grid_q95", "grid_lossless", "alpha", "deep", "grey", "my-image"):
        described = source.describe(identifier)
        for shrink in (1, 2):
            assert source.open(described, described.levels[0], shrink).avg() >= 0
    assert 0 < source.handles.bytes_held <= 1 << 20  # each 400x300 decode is 360 KB to 960 KB


def test_libvips_operation_cache_is_limited_by_the_settings(image_root: Path) -> None:
    before = pyvips.cache_get_max_mem(), pyvips.cache_get_max()
    try:
        create_app(Settings(image_root=image_root, vips_cache_mb=24, vips_cache_operations=50))
        assert (pyvips.cache_get_max_mem(), pyvips.cache_get_max()) == (24 << 20, 50)
    finally:
        pyvips.cache_set_max_mem(before[0])
        pyvips.cache_set_max(before[1])


def test_info_bodies_stay_under_their_byte_limit(image_root: Path) -> None:
    app = create_app(Settings(image_root=image_root))
    bodies = app.state.iiif.info_bodies
    bodies.resize(64 << 10)
    with TestClient(app) as client:
        for i in range(60):  # each body holds its long host name: about 2 KB, 120 KB in all
            response = client.get("/iiif/3/grid/info.json", headers={"host": f"{'h' * 400}{i}.example"})
            assert response.json()["width"] == 400
    assert 0 < bodies.bytes_held <= 64 << 10
    assert 0 < len(bodies) < 60


def test_the_predictions_cache_stays_under_its_byte_limit() -> None:
    cache = PredictionCache(1 << 20, OCRSettings().cache_size)
    page = [AnnotatedRegion(f"r{i:04d}", tuple((float(x), 0.5 * x) for x in range(100))) for i in range(20)]
    for number in range(40):  # each page about 230 KB against a 1 MB limit
        cache.put(("regions", str(number)), page)
        assert cache.get(("regions", str(number))) == page
    assert 0 < cache.hot.bytes_held <= 1 << 20
    assert 0 < len(cache.hot) < 40


# Request bodies are limited before they are read; whatever is not JSON is a 400.


@pytest.fixture(scope="module")
def body_app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    """The full server (every extension) with 1 MB JSON bodies and 2 MB uploads."""
    folder = tmp_path_factory.mktemp("bodies")
    pyvips.Image.black(64, 48, bands=3).pngsave(str(folder / "page.png"))
    core = Settings(image_root=folder, max_body_mb=1)
    return create_server_app(ServerSettings(core, jobs=JobSettings(max_upload_bytes=2_000_000)))


async def post_raw(app: Starlette, path: str, chunks: Iterator[bytes], headers: list[tuple[bytes, bytes]]):
    """POST `chunks` through the raw ASGI interface: the status, the body and how many chunks were read."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"test"), *headers],
        "scheme": "http",
        "server": ("test", 80),
        "client": ("127.0.0.1", 1234),
        "root_path": "",
        "http_version": "1.1",
    }
    read = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal read
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), read


def endless(chunk: bytes) -> Iterator[bytes]:
    while True:
        yield chunk


@pytest.mark.parametrize("length", [b"100000000", b"9" * 5000])
@pytest.mark.parametrize("path", ["/mask/batch", "/jobs"])
def test_a_body_declared_over_the_limit_is_refused_before_it_is_read(
    body_app: Starlette, path: str, length: bytes
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", length)]
    status, body, read = anyio.run(post_raw, body_app, path, endless(b" " * 65536), headers)
    assert (status, read) == (413, 0)
    assert body.startswith(b"body: the request body is larger than 1000000 bytes (IIIF_MAX_BODY_MB=1)")


@pytest.mark.parametrize("path", ["/mask/batch", "/jobs"])
def test_a_streamed_body_is_refused_once_it_grows_over_the_limit(body_app: Starlette, path: str) -> None:
    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    status, body, read = anyio.run(post_raw, body_app, path, endless(b" " * 65536), headers)
    assert status == 413 and b"IIIF_MAX_BODY_MB=1" in body
    assert read == 1_000_000 // 65536 + 1  # not one chunk more than it takes to be over


def test_uploads_have_their_own_limit(body_app: Starlette) -> None:
    with TestClient(body_app) as client:
        big = client.post("/jobs", content=b"\0" * 2_500_000, headers={"content-type": "image/png"})
        assert big.status_code == 413 and "IIIF_JOBS_MAX_UPLOAD_MB=2" in big.text
        # Over the JSON limit, within the upload limit: read, and refused as no image (not as too large).
        image_sized = client.post("/jobs", content=b"\0" * 1_500_000, headers={"content-type": "image/png"})
        assert image_sized.status_code == 400, image_sized.text
        json_sized = client.post(
            "/jobs", content=b" " * 1_500_000, headers={"content-type": "application/json"}
        )
        assert json_sized.status_code == 413 and "IIIF_MAX_BODY_MB=1" in json_sized.text


def test_two_million_identifiers_are_refused_before_they_are_parsed(body_app: Starlette) -> None:
    body = json.dumps({"identifiers": [f"page{i}" for i in range(2_000_000)]}).encode()
    with TestClient(body_app) as client:
        response = client.post("/jobs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "IIIF_MAX_BODY_MB=1" in response.text


@pytest.mark.parametrize("path", ["/mask/batch", "/jobs"])
@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b"\xff\xfe not utf-8", b"{"])
def test_bodies_that_are_not_json_are_400(body_app: Starlette, path: str, body: bytes) -> None:
    with TestClient(body_app) as client:
        response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.text.startswith("body: the body is")


def test_an_annotation_document_nested_too_deeply_is_400(body_app: Starlette) -> None:
    deep = "[" * 100_000
    with TestClient(body_app) as client:
        for document in (deep, json.loads("[" * 900 + "]" * 900)):
            response = client.post("/mask/batch", json={"identifier": "page", "document": document})
            assert response.status_code == 400, response.text
            assert response.text.startswith("document: ")


# The limits hold for the rotated output, as libvips makes it.

ROTATION_LIMITS = [
    Limits(max_width=None, max_height=None, max_area=100_000),
    Limits(max_width=350, max_height=None, max_area=None),
    Limits(max_width=400, max_height=300, max_area=None),
    Limits(max_width=12000, max_height=12000, max_area=64_000_000),
]


def fits(width: int, height: int, limits: Limits) -> bool:
    return (
        (not limits.max_width or width <= limits.max_width)
        and (not limits.max_height or height <= limits.max_height)
        and (not limits.max_area or width * height <= limits.max_area)
    )


@pytest.mark.parametrize("limits", ROTATION_LIMITS)
@pytest.mark.parametrize("degrees", ["0", "1", "30", "45", "90", "!135", "270", "333.3"])
@pytest.mark.parametrize(
    ("size", "width", "height"), [("max", 6000, 8000), ("^max", 7, 5), ("max", 400, 300)]
)
def test_max_with_rotation_is_the_largest_rotated_size_within_the_limits(
    limits: Limits, degrees: str, size: str, width: int, height: int
) -> None:
    request = parse_image_request("page", "full", size, degrees, "default.png")
    image_plan = plan(request, width, height, limits)
    rotated = pyvips.Image.black(image_plan.width, image_plan.height).rotate(float(degrees.lstrip("!")))
    assert fits(rotated.width, rotated.height, limits), (image_plan.width, image_plan.height)
    # Two pixels more on the longer side would not fit: `max` is (up to rounding) the largest size allowed.
    if (image_plan.width, image_plan.height) != (width, height) or size == "^max":
        scale = (max(image_plan.width, image_plan.height) + 2) / max(image_plan.width, image_plan.height)
        grown = pyvips.Image.black(round(image_plan.width * scale), round(image_plan.height * scale))
        grown = grown.rotate(float(degrees.lstrip("!")))
        assert not fits(grown.width, grown.height, limits)


def test_the_page_rotated_by_45_degrees_stays_within_max_area() -> None:
    """The report: `page1/full/max/45` gave 9899x9899 (98 Mpx) against the 64 Mpx limit."""
    image_plan = plan(parse_image_request("page1", "full", "max", "45", "default.png"), 6000, 8000, Limits())
    rotated = pyvips.Image.black(image_plan.width, image_plan.height).rotate(45)
    assert rotated.width * rotated.height <= 64_000_000
    assert image_plan.canonical_path == f"page1/full/{image_plan.width},{image_plan.height}/45/default.png"


@pytest.mark.parametrize(
    ("path", "limits", "says"),
    [
        ("full/300,/45/default.png", Limits(None, None, 100_000), "area 137641 exceeds maxArea 100000"),
        ("full/^600,/45/default.png", Limits(700, None, None), "width 742 exceeds maxWidth 700"),
        ("0,0,100,300/100,300/90/default.png", Limits(250, 400, None), "width 300 exceeds maxWidth 250"),
    ],
)
def test_an_explicit_size_whose_rotation_is_over_the_limits_is_413(
    make_client, path: str, limits: Limits, says: str
) -> None:
    response = make_client(limits=limits).get(f"/iiif/3/grid/{path}")
    assert response.status_code == 413, response.text
    assert response.text.startswith(f"size: {says}") and "rotated by" in response.text


@pytest.mark.parametrize(
    "path", ["full/max/45/default.png", "full/!300,300/30/default.png", "full/max/90/default.png"]
)
def test_served_rotations_are_within_the_limits(make_client, path: str) -> None:
    limits = Limits(max_width=350, max_height=300, max_area=60_000)
    response = make_client(limits=limits).get(f"/iiif/3/grid/{path}")
    assert response.status_code == 200, response.text
    image = decoded(response.content)
    assert fits(image.width, image.height, limits), (image.width, image.height)


# Numbers of any length are a 400, never a 500.

HUGE = "1" * 5000
LONG = "9" * 400


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (f"{HUGE},0,10,10/max/0/default.png", "region"),
        (f"0,0,{HUGE},10/max/0/default.png", "region"),
        (f"pct:0,0,{LONG},10/max/0/default.png", "region"),
        (f"pct:0,0,{LONG}.5,10/max/0/default.png", "region"),
        (f"poly:0,0,{LONG},0,10,10/max/0/default.png", "region"),
        (f"poly:pct:0,0,-{LONG},0,10,10/max/0/default.png", "region"),
        (f"full/{HUGE},/0/default.png", "size"),
        (f"full/^{LONG},/0/default.png", "size"),
        (f"full/^pct:{LONG}/0/default.png", "size"),
        (f"full/!{LONG},{LONG}/0/default.png", "size"),
        (f"full/max/{LONG}/default.png", "rotation"),
        (f"full/max/0.{HUGE}/default.png", "rotation"),
    ],
)
def test_numbers_of_any_length_are_400(masking_client: TestClient, path: str, parameter: str) -> None:
    response = masking_client.get(f"/iiif/3/grid/{path}")
    assert response.status_code == 400, response.text
    assert response.text.startswith(f"{parameter}: ")
    assert len(response.text) < 300


@pytest.mark.parametrize(
    "path",
    [
        "pct:0,0,100.00000000000000000001,50/max/0/default.png",  # long, but a fine number
        "0,0,000000000000000000000000000010,10/max/0/default.png",
        "poly:10.000000000000001,10,100,10,50,90/max/0/default.png",
    ],
)
def test_long_but_reasonable_numbers_are_served(masking_client: TestClient, path: str) -> None:
    response = masking_client.get(f"/iiif/3/grid/{path}")
    assert response.status_code == 200, response.text
    assert decoded(response.content).width > 0


# Error texts quote at most 80 characters of any input.


@pytest.mark.parametrize(
    "path",
    [
        "/iiif/3/grid/full/max/0/default.jpg?bg=" + "f" * 16_000,
        "/iiif/3/grid/" + "x" * 12_000 + "/max/0/default.jpg",
        "/iiif/3/grid/pct:" + "1," * 6_000 + "/max/0/default.jpg",
        "/iiif/3/grid/poly:" + "1,a" * 3_000 + "/max/0/default.jpg",
        "/iiif/3/grid/full/" + "7" * 9_000 + "/0/default.jpg",
        "/iiif/3/grid/full/max/0/default." + "p" * 9_000,
        "/iiif/3/" + "n" * 12_000 + "/info.json",
        "/iiif/3/" + "word " * 2_500 + "/info.json",
    ],
)
def test_error_texts_quote_a_bounded_part_of_the_input(masking_client: TestClient, path: str) -> None:
    response = masking_client.get(path)
    assert 400 <= response.status_code < 500, response.text[:200]
    assert len(response.text) <= 1100, response.text[:200]
    assert max(len(run) for run in response.text.split()) <= 81 + 10  # a quote of 80, its '…' and a prefix


def test_a_batch_item_error_quotes_a_bounded_part_of_the_input(masking_client: TestClient) -> None:
    items = [{"id": "bad", "polygon": "1,2,3,4,5," + "x" * 10_000}]
    response = masking_client.post(
        "/mask/batch", json={"identifier": "grid", "annotations": items, "output_format": "json"}
    )
    assert response.status_code == 200, response.text[:200]
    error = response.json()["items"][0]["error"]
    assert "could not convert" in error and len(error) < 300


# A source libvips cannot read is a 501 on every path that reads pixels, naming no folder.


@pytest.fixture(scope="module")
def truncated_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    """The full server over a JPEG cut in half (its header is whole, its pixels are not)."""
    folder = tmp_path_factory.mktemp("truncated")
    whole = pyvips.Image.black(800, 600, bands=3).draw_rect([200, 40, 40], 100, 100, 400, 300, fill=True)
    data = whole.jpegsave_buffer(Q=90)
    (folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    with TestClient(
        create_server_app(ServerSettings(Settings(image_root=folder), ("masking", "ocr")))
    ) as client:
        yield client, folder


@pytest.mark.parametrize(
    "path",
    [
        "cut/full/max/0/default.jpg",
        "cut/regions.json",
        "cut/ocr.json",
        "cut/ocr.alto.xml",
        "cut/ocr.page.xml",
        "cut/0,0,400,300/ocr",
        "cut/poly:0,0,400,0,200,300/ocr",
        "cut/pred:r0001/ocr",
        "cut/pred:r0001/max/0/default.png",
    ],
)
def test_undecodable_pixels_are_501_on_every_path(
    truncated_client: tuple[TestClient, Path], path: str
) -> None:
    client, folder = truncated_client
    response = client.get(f"/iiif/3/{path}")
    assert response.status_code == 501, response.text
    assert response.text.startswith("libvips could not process this image: ")
    assert str(folder) not in response.text and str(folder.parent) not in response.text


def test_an_undecodable_batch_page_is_reported_per_item_naming_no_folder(
    truncated_client: tuple[TestClient, Path],
) -> None:
    client, folder = truncated_client
    items = [{"id": "a", "polygon": [[0, 0], [400, 0], [200, 300]]}]
    response = client.post(
        "/mask/batch", json={"identifier": "cut", "annotations": items, "output_format": "json"}
    )
    item = response.json()["items"][0]
    assert item["status"] == "error" and item["error"].startswith("libvips: ")
    assert str(folder) not in item["error"]


# A client without a known bearer token gets at most IIIF_ANONYMOUS_MAX_AREA pixels per image.

TOKEN = "a-long-random-token"


@pytest.fixture(scope="module")
def budget_client(image_root: Path) -> Iterator[TestClient]:
    """The core and masking, 120,000 px images, 1 Mpx answers, 50,000 px for anonymous clients, one token."""
    service = ServiceSettings(tokens=frozenset({token_digest(TOKEN)}))
    limits = Limits(4000, 4000, 1_000_000)
    settings = Settings(image_root=image_root, limits=limits, anonymous_max_area=50_000, service=service)
    with TestClient(create_app(settings, [masking_extension(MaskSettings())])) as client:
        yield client


BEARER = {"authorization": f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    "path",
    ["full/max/0/default.png", "poly:10,10,11,10,11,12/^max/0/default.png", "full/^max/30/default.jpg"],
)
def test_anonymous_images_stay_within_their_pixel_budget(budget_client: TestClient, path: str) -> None:
    anonymous = decoded(budget_client.get(f"/iiif/3/grid/{path}").content)
    assert anonymous.width * anonymous.height <= 50_000
    with_token = decoded(budget_client.get(f"/iiif/3/grid/{path}", headers=BEARER).content)
    assert 50_000 < with_token.width * with_token.height <= 1_000_000


def test_an_explicit_size_over_the_anonymous_budget_is_413(budget_client: TestClient) -> None:
    response = budget_client.get("/iiif/3/grid/full/400,300/0/default.png")
    assert response.status_code == 413 and "maxArea 50000" in response.text
    assert budget_client.get("/iiif/3/grid/full/400,300/0/default.png", headers=BEARER).status_code == 200


def test_info_json_tells_each_client_its_own_max_area(budget_client: TestClient) -> None:
    anonymous = budget_client.get("/iiif/3/grid/info.json")
    with_token = budget_client.get("/iiif/3/grid/info.json", headers=BEARER)
    assert anonymous.json()["maxArea"] == 50_000 and with_token.json()["maxArea"] == 1_000_000
    assert anonymous.headers["etag"] != with_token.headers["etag"]
    assert "Authorization" in anonymous.headers["vary"]


def test_an_anonymous_batch_stays_within_the_budget(budget_client: TestClient) -> None:
    items = [{"id": "big", "polygon": [[0, 0], [300, 0], [150, 200]], "scale": 2}]  # 600x400 at scale 2
    body = {"identifier": "grid", "annotations": items, "output_format": "json"}
    anonymous = budget_client.post("/mask/batch", json=body).json()["items"][0]
    assert anonymous["status"] == "error" and "maxArea 50000" in anonymous["error"]
    assert budget_client.post("/mask/batch", json=body, headers=BEARER).json()["items"][0]["status"] == "ok"


# Every decoded source is checked on its header: raster formats only, at most IIIF_MAX_SOURCE_PIXELS.


def png_bomb(side: int) -> bytes:
    """A valid black 1-bit PNG of `side` x `side` pixels: about 100 KB that decode to `side`² pixels."""
    row = b"\0" * (1 + (side + 7) // 8)
    data = zlib.compress(row * side, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="20000" height="20000"><rect width="9" height="9"/></svg>'
)


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "bomb.png").write_bytes(png_bomb(30_000))
    (folder / "drawing.svg").write_bytes(SVG)
    (folder / "drawing-as.png").write_bytes(SVG)  # a vector image under a raster suffix
    pyvips.Image.black(64, 48).pngsave(str(folder / "small.png"))
    return folder


def test_the_default_source_pixel_limit_fits_a_small_machine() -> None:
    assert Settings().max_source_pixels <= 300_000_000 < 30_000 * 30_000


@pytest.mark.parametrize(
    "path", ["bomb/info.json", "bomb/full/max/0/default.jpg", "bomb/0,0,10,10/max/0/default.png"]
)
def test_a_local_source_over_the_pixel_limit_is_413(hostile_folder: Path, path: str) -> None:
    with TestClient(create_app(Settings(image_root=hostile_folder))) as client:
        response = client.get(f"/iiif/3/{path}")
    assert response.status_code == 413, response.text
    assert "900000000 pixels" in response.text and "IIIF_MAX_SOURCE_PIXELS" in response.text


@pytest.mark.parametrize("identifier", ["drawing.svg", "drawing-as"])
def test_local_vector_images_are_not_rendered(hostile_folder: Path, identifier: str) -> None:
    with TestClient(create_app(Settings(image_root=hostile_folder))) as client:
        for path in ("info.json", "full/max/0/default.png"):
            response = client.get(f"/iiif/3/{identifier}/{path}")
            assert response.status_code == 501, response.text
            assert "raster formats only" in response.text
        assert client.get("/iiif/3/small/info.json").status_code == 200


def test_an_uploaded_page_over_the_pixel_limit_is_refused_before_it_is_accepted(hostile_folder: Path) -> None:
    app = create_server_app(ServerSettings(Settings(image_root=hostile_folder), ("jobs",)))
    with TestClient(app) as client:
        response = client.post("/jobs", content=png_bomb(30_000), headers={"content-type": "image/png"})
        assert response.status_code == 413, response.text
        assert response.text.startswith("body: source has 900000000 pixels")
        small = pyvips.Image.black(64, 48).pngsave_buffer()
        assert client.post("/jobs", content=small, headers={"content-type": "image/png"}).status_code == 202
