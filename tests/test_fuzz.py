"""Property-based fuzzing of every public input: the five IIIF parameters with the `poly:` / `pred:`
syntaxes, batch bodies, annotation documents and job bodies. Whatever comes in: no 5xx but 501, no request
over 5 s, and no pixel, size or text of a private image without a token. Bounded to about a minute."""

import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
import pyvips
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from extensions.server import create_server_app
from extensions.server_settings import ServerSettings
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Limits, Settings

SECRET_SIZE = (333, 222)  # no public image has this size, so a leaked size is recognised
PAGE_SIZE = (400, 300)
SLOWEST_S = 5.0
FUZZ = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The full server over a grey public page and pure red private images, private prefixes set."""
    folder = tmp_path_factory.mktemp("fuzz")
    ramp = np.tile(np.linspace(0, 255, PAGE_SIZE[0], dtype=np.uint8), (PAGE_SIZE[1], 1))
    pyvips.Image.new_from_array(ramp).pngsave(str(folder / "page.png"))
    red = pyvips.Image.black(*SECRET_SIZE, bands=3).new_from_image([255, 0, 0]).cast("uchar")
    red.pngsave(str(folder / "secret-ledger.png"))
    (folder / "private").mkdir()
    red.pngsave(str(folder / "private" / "letter.png"))
    service = ServiceSettings(private_prefixes=("secret", "private/"), request_timeout=SLOWEST_S)
    app_settings = Settings(
        image_root=folder, limits=Limits(2000, 2000, 4_000_000), max_source_pixels=10_000_000, service=service
    )
    with TestClient(
        create_server_app(ServerSettings(app_settings, ("masking", "ocr", "viewer", "jobs"))),
        raise_server_exceptions=False,
    ) as c:
        assert c.get("/iiif/3/page/regions.json").status_code == 200  # models loaded before the clock runs
        yield c


def red_pixels(data: bytes) -> bool:
    """Whether an encoded image holds the private images' pure red."""
    image = pyvips.Image.new_from_buffer(data, "")
    if image.bands < 3:
        return False
    shape = [image.height, image.width, image.bands]
    pixels = np.ndarray(buffer=image.cast("uchar").write_to_memory(), dtype=np.uint8, shape=shape)
    return bool(((pixels[..., 0] > 200) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)).any())


def shows_secret(response: Any) -> bool:
    """Whether an answer carries the private images' pixels or their size (a batch's zip: any member)."""
    kind = response.headers.get("content-type", "")
    if kind.startswith("image/"):
        return red_pixels(response.content)
    if kind.startswith("application/zip"):
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        names = [name for name in archive.namelist() if not name.endswith((".json", ".jsonl"))]
        return any(red_pixels(archive.read(name)) for name in names)
    text = response.text
    return f'"width": {SECRET_SIZE[0]}' in text or f'"width":{SECRET_SIZE[0]}' in text or "secret" in text


def check(client: TestClient, method: str, url: str, **kwargs: Any) -> Any:
    """One request; fail on 5xx (501, an unsupported feature, is an answer), slowness and private content."""
    start = time.monotonic()
    response = client.request(method, url, **kwargs)
    elapsed = time.monotonic() - start
    status = response.status_code
    assert status < 500 or status == 501, (url, status, response.text[:300])
    assert elapsed < SLOWEST_S, (url, elapsed)
    if response.status_code < 300:
        assert not shows_secret(response), (url, response.status_code)
    return response


junk = st.text(st.characters(codec="utf-8"), max_size=30)
huge = st.integers(min_value=-(10**60), max_value=10**60).map(str) | st.sampled_from(
    ["9" * 5000, "1e999", "-0", "nan", "inf", "0x10", "1_0", " 5", "٣"]
)
small = st.integers(min_value=-5, max_value=1200).map(str)
number = small | huge | st.floats(allow_nan=True, allow_infinity=True).map(repr)
identifiers = (
    st.sampled_from(
        [
            "page",
            "page.png",
            "secret-ledger",
            "./secret-ledger",
            "secret-ledger.png",
            ".//secret-ledger",
            "private/letter",
            "./private/letter",
            "private//letter",
            "private/./letter",
            "page/../secret-ledger",
            "SECRET-ledger",
            "nothing",
            "..",
            "http://127.0.0.1:1/x",
            "up:..",
            "%2e%2e",
        ]
    )
    | junk
)
coordinates = st.lists(number, min_size=0, max_size=12).map(",".join)
regions = (
    st.sampled_from(["full", "square", "0,0,10,10", "pred:r0001", "pred:b0001", "pred:", "poly:", "pct:"])
    | st.tuples(small, small, number, number).map(",".join)
    | st.tuples(number, number, number, number).map(lambda v: "pct:" + ",".join(v))
    | coordinates.map(lambda c: "poly:" + c)
    | st.from_regex(r"pred:[rb][0-9]{1,6}", fullmatch=True)
    | junk
)
sizes = (
    st.sampled_from(["max", "^max", "pct:50", "^pct:150", ",50", "50,", "!50,50", "^!3000,3000", "0,0"])
    | st.tuples(st.sampled_from(["", "^", "!", "^!"]), number, number).map(lambda t: f"{t[0]}{t[1]},{t[2]}")
    | number.map(lambda n: f"pct:{n}")
    | junk
)
rotations = st.sampled_from(["0", "90", "!180", "45", "359.9", "!0"]) | number | junk
qualities = st.sampled_from(["default", "color", "gray", "bitonal"]) | junk
formats = st.sampled_from(["jpg", "png", "webp", "tif", "gif", "jp2", "pdf"]) | junk


@FUZZ
@given(identifiers, regions, sizes, rotations, qualities, formats)
def test_image_requests(
    client: TestClient,
    identifier: str,
    region: str,
    size: str,
    rotation: str,
    quality: str,
    image_format: str,
) -> None:
    path = "/".join(quote(part, safe="") for part in (identifier, region, size, rotation))
    check(client, "GET", f"/iiif/3/{path}/{quote(quality, safe='')}.{quote(image_format, safe='')}")


sidecars = st.sampled_from(["info.json", "ocr.json", "regions.json", "ocr.alto.xml", "ocr.page.xml"])


@FUZZ
@given(identifiers, sidecars, st.one_of(st.none(), regions))
def test_info_and_sidecars(client: TestClient, identifier: str, sidecar: str, region: str | None) -> None:
    parts = [identifier, *([region, "ocr"] if region is not None and sidecar == "ocr.json" else [sidecar])]
    check(client, "GET", "/iiif/3/" + "/".join(quote(p, safe="") for p in parts))
    check(client, "GET", f"/viewer/{quote(identifier, safe='')}")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | junk,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(junk, children, max_size=5),
    max_leaves=20,
)
points = st.lists(st.tuples(number, number).map(list), max_size=8)
annotations = st.lists(
    st.fixed_dictionaries(
        {"polygon": points | json_values}, optional={"id": junk, "scale": number | json_values}
    ),
    max_size=4,
)
batch_bodies = (
    st.fixed_dictionaries(
        {"identifier": identifiers},
        optional={
            "annotations": annotations | json_values,
            "document": junk | json_values,
            "scale": json_values,
            "output_format": st.sampled_from(["zip", "json"]) | junk,
            "format": formats,
            "bg": junk | json_values,
            "min_area": json_values,
        },
    )
    | json_values
)


@FUZZ
@given(batch_bodies)
def test_batch_bodies(client: TestClient, body: Any) -> None:
    check(client, "POST", "/mask/batch", content=json.dumps(body, allow_nan=True))


documents = st.sampled_from(
    [
        '<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">'
        '<Page imageWidth="400" imageHeight="300"><TextRegion id="r"><Coords points="{p}"/></TextRegion>'
        "</Page></PcGts>",
        '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout><Page WIDTH="400" HEIGHT="300">'
        '<PrintSpace><TextBlock ID="b" HPOS="{x}" VPOS="{y}" WIDTH="{w}" HEIGHT="{h}"><Shape>'
        '<Polygon POINTS="{p}"/></Shape></TextBlock></PrintSpace></Page></Layout></alto>',
        '{{"type": "Annotation", "target": {{"source": "x", "selector": {{"type": "SvgSelector", '
        '"value": "<svg><polygon points=\\"{p}\\"/></svg>"}}}}}}',
    ]
)


@FUZZ
@given(identifiers, documents, coordinates, number, number, number, number)
def test_annotation_documents(
    client: TestClient, identifier: str, template: str, p: str, x: str, y: str, w: str, h: str
) -> None:
    document = template.format(p=p.replace(",", " ", 1), x=x, y=y, w=w, h=h)
    check(
        client,
        "POST",
        "/mask/batch",
        json={"identifier": identifier, "document": document, "output_format": "json"},
    )


job_bodies = (
    st.fixed_dictionaries(
        {},
        optional={
            "identifiers": st.lists(identifiers, max_size=3) | json_values,
            "manifest": junk | json_values,
        },
    )
    | json_values
)


@FUZZ
@given(job_bodies)
def test_job_bodies(client: TestClient, body: Any) -> None:
    answer = check(client, "POST", "/jobs", content=json.dumps(body, allow_nan=True))
    if answer.status_code == 202:
        check(client, "GET", answer.headers.get("location") or f"/jobs/{answer.json()['id']}")


def test_deeply_nested_bodies(client: TestClient) -> None:
    for path in ("/mask/batch", "/jobs"):
        check(client, "POST", path, content=b"[" * 100_000)
        check(client, "POST", path, content=b'{"identifier":' * 50_000)


def test_uploads_of_any_bytes(client: TestClient) -> None:
    """Uploaded pages that are not raster images, or are vector ones, are refused with a 4xx."""
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="20000" height="20000"><rect width="1"/></svg>'
    for body in (b"", b"\xff\xd8\xff\xe0truncated", svg, b"GIF89a"):
        check(client, "POST", "/jobs", files={"file": ("page.png", body, "image/png")})
