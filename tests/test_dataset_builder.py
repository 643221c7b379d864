"""`iiif-train dataset build`: line crops fetched by masked IIIF URL, in process and from a live server."""

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import pyvips
from shapely.geometry import Polygon

from conformance.live_server import running_server
from extensions.annotations import AnnotatedRegion, alto_xml, iiif, page_xml
from extensions.line_crops import LineCrop, cut_line, line_height, skew_angle
from iiif_server.sources import FolderSource
from models.cli import main
from models.dataset.builder import BuildOptions, build_dataset
from models.dataset.fetcher import CropFetcher, FetchError, in_process_transport
from models.dataset.image_names import ImageFinder, identifier_of
from models.dataset.line_items import CollectedItems, ItemSelection, annotation_files, collect_items
from models.dataset.masked_url import CropOptions, crop_request
from models.dataset.records import load_crop, read_dataset
from models.dataset.splits import parse_ratios, split_of

PAGE_SIZE = (1000, 420)
SLANT = 6.0
INK = (30, 30, 30)
LINES = [  # text, clockwise slant in degrees, where the text's top left corner goes
    ("Polygon masks keep neighbouring lines out.", 0.0, (60, 40)),
    ("Every line of this page is rendered text.", SLANT, (80, 140)),
    ("IIIF Image API three point zero.", 0.0, (60, 330)),
]
PAD = 6


def transformed(points: list[tuple[float, float]], angle: float, origin: tuple[int, int]) -> list:
    """Points of the text's own frame rotated clockwise by `angle` and moved to `origin` on the page."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(origin[0] + c * x - s * y, origin[1] + s * x + c * y) for x, y in points]


def cut_corner_box(width: int, height: int, cut: int = 12) -> list[tuple[float, float]]:
    """A padded box around the text with its four corners cut off (an octagon)."""
    x0, y0, x1, y1 = -PAD, -PAD, width + PAD, height + PAD
    return [
        (x0 + cut, y0), (x1 - cut, y0), (x1, y0 + cut), (x1, y1 - cut),
        (x1 - cut, y1), (x0 + cut, y1), (x0, y1 - cut), (x0, y0 + cut),
    ]  # fmt: skip


def write_page(folder: Path, name: str) -> list[AnnotatedRegion]:
    """A page of rendered lines (one slanted), saved as NAME.png with its PAGE XML; returns the regions."""
    page = pyvips.Image.black(*PAGE_SIZE).new_from_image([245, 240, 228]).copy(interpretation="srgb")
    regions = []
    for number, (text, angle, origin) in enumerate(LINES, 1):
        mask = pyvips.Image.text(text, dpi=150)
        ink = mask.new_from_image(list(INK)).bandjoin(mask).copy(interpretation="srgb")
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        placed = ink.affine([c, -s, s, c], odx=origin[0], ody=origin[1], oarea=[0, 0, *PAGE_SIZE])
        page = page.composite2(placed, "over").flatten().copy(interpretation="srgb")
        corners = transformed(cut_corner_box(mask.width, mask.height), angle, origin)
        polygon = tuple((float(round(x)), float(round(y))) for x, y in corners)  # PAGE keeps whole pixels
        kind = (("synthetic.kind", "slanted" if angle else "straight"),)
        regions.append(AnnotatedRegion(f"l{number}", polygon, "line", text=text, properties=kind))
    regions.append(AnnotatedRegion("empty", ((5, 5), (50, 5), (50, 20), (5, 20)), "line", text=None))
    page.cast("uchar").pngsave(str(folder / f"{name}.png"))
    (folder / f"{name}.page.xml").write_bytes(page_xml.serialize(regions, f"{name}.png", PAGE_SIZE))
    return regions


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[AnnotatedRegion]]:
    """A folder with two pages (`a.png`, `b.png`) and their PAGE XML."""
    folder = tmp_path_factory.mktemp("pages")
    regions = write_page(folder, "a")
    write_page(folder, "b")
    return folder, regions


def build(out: Path, *arguments: str) -> None:
    """Run `iiif-train dataset build ... --out OUT`."""
    main(["dataset", "build", *arguments, "--out", str(out)])


def alpha_and_ink(image: pyvips.Image) -> tuple[np.ndarray, np.ndarray]:
    """The alpha band and the dark (ink) pixels of an RGBA crop."""
    array = image.numpy()
    return array[..., 3], (array[..., 3] > 0) & (array[..., :3].mean(axis=2) < 128)


def ink_slant(ink: np.ndarray) -> float:
    """The angle in degrees (clockwise positive) of the principal axis of the ink pixels."""
    ys, xs = np.nonzero(ink)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(np.vstack([xs, ys])))
    x, y = eigenvectors[:, np.argmax(eigenvalues)]
    return (math.degrees(math.atan2(y, x)) + 90) % 180 - 90


def test_in_process_build_writes_masked_crops_texts_and_manifest(pages, tmp_path: Path) -> None:
    folder, regions = pages
    build(tmp_path, str(folder / "a.page.xml"), "--images", str(folder))
    info, records = read_dataset(tmp_path)
    assert info.server == "in-process" and info.crop.mask_polygon and info.crop.deskew
    assert [r.region_id for r in records] == ["l1", "l2", "l3"]
    assert sum(info.counts[s] for s in ("train", "val", "test")) == 3 and info.counts["failed"] == 0
    assert info.summary["skipped"] == {"no_text": 1, "other_type:TextRegion": 1}
    for record, region in zip(records, regions, strict=False):
        assert record.text == region.text == (tmp_path / record.text_file).read_text(encoding="utf-8")
        assert record.identifier == "a.png" and record.id == f"a.png/{region.id}"
        assert record.polygon == region.polygon and record.crop == "mask"
        assert record.properties == dict(region.properties) and record.region_type == "TextLine"
        assert "/a.png/poly:" in record.url and record.url.endswith("/default.png")
        raw = json.loads((tmp_path / "manifest.jsonl").read_text().splitlines()[records.index(record)])
        assert set(raw) >= {"split", "image", "bbox", "properties", "rotation", "width", "height", "sha256"}
    straight = records[0]
    image = pyvips.Image.new_from_file(str(tmp_path / straight.image))
    alpha, _ = alpha_and_ink(image)
    xs, ys = [x for x, _ in straight.polygon], [y for _, y in straight.polygon]
    assert (image.width, image.height) == (straight.width, straight.height)
    assert (image.width, image.height) == (
        math.ceil(max(xs)) - math.floor(min(xs)),
        math.ceil(max(ys)) - math.floor(min(ys)),
    )
    assert straight.rotation == 0 and image.bands == 4
    assert alpha[0, 0] == alpha[-1, -1] == 0  # the cut corners lie outside the polygon
    assert alpha[image.height // 2, image.width // 2] == 255 and alpha[image.height // 2, 2] == 255
    flat = load_crop(tmp_path, straight, (255, 0, 0))
    assert flat.shape == (image.height, image.width, 3) and tuple(flat[0, 0]) == (255, 0, 0)


def test_deskewed_masked_crop_has_a_level_ink_band(pages, tmp_path: Path) -> None:
    folder, regions = pages
    slanted = regions[1].polygon
    assert skew_angle(slanted) == pytest.approx(SLANT, abs=0.2)
    request = crop_request("a.png", slanted, CropOptions("mask", deskew=True))
    assert request.rotation == pytest.approx(360 - SLANT, abs=0.2)
    build(tmp_path / "level", str(folder / "a.page.xml"), "--images", str(folder))
    build(tmp_path / "as-is", str(folder / "a.page.xml"), "--images", str(folder), "--no-deskew")
    slants, sizes = [], []
    for name in ("level", "as-is"):
        _, records = read_dataset(tmp_path / name)
        image = pyvips.Image.new_from_file(str(tmp_path / name / records[1].image))
        slants.append(ink_slant(alpha_and_ink(image)[1]))
        sizes.append((image.width, image.height))
        assert (image.width, image.height) == (records[1].width, records[1].height)
    assert abs(slants[0]) < 1.0, slants
    assert slants[1] == pytest.approx(SLANT, abs=1.0)
    # Unlevelled: the polygon's box; levelled: the line itself, without the margins that turning the whole
    # box added (IIIF rotates the whole box), as the server's own line crops are cut.
    _, _, w, h = request.bbox
    assert sizes[1] == (w, h)
    band = Polygon(slanted).minimum_rotated_rectangle.exterior.coords
    length = max(math.dist(band[0], band[1]), math.dist(band[1], band[2]))
    assert sizes[0] == pytest.approx((length + 4, line_height(slanted) + 4), abs=3)  # 2 px pad a side


def test_crops_match_the_servers_own_ocr_line_crops(pages, tmp_path: Path) -> None:
    """The recogniser is fed `line_crops.cut_line` crops: the dataset's, flattened, are the same pixels."""
    folder, _ = pages
    build(tmp_path, str(folder / "a.page.xml"), "--images", str(folder), "--background", "250,250,250")
    info, records = read_dataset(tmp_path)
    source = FolderSource(folder, 10**9, 4)
    for record in records:
        page = source.describe("a.png")
        line = LineCrop(record.polygon, record.bbox, 1000, background=(250, 250, 250))
        expected = cut_line(page, source, line, line.plan(page))
        crop = load_crop(tmp_path, record, info.crop.background)
        assert crop.shape == expected.shape
        assert np.abs(crop.astype(int) - expected).mean() < 0.5  # bilinear rounding on the rotated line


def test_live_server_build_shows_progress_resumes_and_refetches_a_deleted_crop(
    pages, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = pages
    out = tmp_path / "set"
    with running_server(folder, env={"IIIF_EXTENSIONS": "masking"}) as server:
        arguments = [str(folder), "--server", server.base_url, "--progress", "--concurrency", "3"]
        build(out, *arguments)
        first = capsys.readouterr()
        assert "crops" in first.err and "6/6" in first.err  # the progress bar
        assert "6 lines" in first.out and "fetched 6, resumed 0" in first.out
        _, records = read_dataset(out)
        assert all(r.url.startswith(f"{server.base_url}/iiif/3/") for r in records)
        files = [out / r.image for r in records] + [out / r.text_file for r in records]
        stamps = {path: path.stat().st_mtime_ns for path in files}
        build(out, *arguments)
        assert "fetched 0, resumed 6" in capsys.readouterr().out
        assert {path: path.stat().st_mtime_ns for path in files} == stamps
        (out / records[4].image).unlink()
        build(out, *arguments)
        assert "fetched 1, resumed 5" in capsys.readouterr().out
    _, again = read_dataset(out)
    assert again == records
    changed = [path for path in files if path.stat().st_mtime_ns != stamps[path]]
    assert changed == [out / records[4].image, out / records[4].text_file]  # only the refetched line


class FailFirst:
    """ASGI wrapper: the first `failures` image requests get a 503 with Retry-After: 0; counts them (not the
    info.json requests that look for each page's image)."""

    def __init__(self, app: Any, failures: int) -> None:
        self.app = app
        self.failures = failures
        self.paths: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/default.png"):
            self.paths.append(scope["path"])
            if len(self.paths) <= self.failures:
                headers = [(b"retry-after", b"0"), (b"content-type", b"text/plain")]
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": b"busy"})
                return
        await self.app(scope, receive, send)


def test_transient_failures_are_retried_until_the_crops_arrive(pages, tmp_path: Path) -> None:
    folder, _ = pages
    faulty = FailFirst(in_process_transport(folder).app, failures=4)

    async def run() -> Any:
        async with CropFetcher(transport=httpx.ASGITransport(app=faulty), retries=3, backoff=0.01) as fetcher:
            return await build_dataset(
                [folder / "a.page.xml"], tmp_path, fetcher, "in-process", BuildOptions()
            )

    summary = asyncio.run(run())
    assert summary.ok and summary.fetched == 3 and len(faulty.paths) == 3 + 4
    assert (tmp_path / "errors.jsonl").read_text() == ""


def test_missing_image_is_reported_per_line_and_the_rest_is_built(pages, tmp_path: Path) -> None:
    folder, regions = pages
    missing = tmp_path / "missing.page.xml"
    missing.write_bytes(page_xml.serialize(regions, "no-such-page.png", PAGE_SIZE))
    with pytest.raises(SystemExit) as exit_status:
        build(tmp_path / "set", str(missing), str(folder / "b.page.xml"), "--images", str(folder))
    assert exit_status.value.code == 1
    errors = [json.loads(line) for line in (tmp_path / "set" / "errors.jsonl").read_text().splitlines()]
    assert sorted((e["id"], e["status"]) for e in errors) == [
        (f"no-such-page.png/l{n}", 404) for n in (1, 2, 3)
    ]
    assert all(e["reason"] and "/no-such-page.png/poly:" in e["url"] for e in errors)
    info, records = read_dataset(tmp_path / "set")
    assert [r.id for r in records] == ["b.png/l1", "b.png/l2", "b.png/l3"] and info.counts["failed"] == 3


def test_the_image_named_like_the_annotation_file_or_mapped_to_it_wins(pages, tmp_path: Path) -> None:
    """Exports name the image as their own tool called it (`IMG_0002.tif`), not as the server serves it."""
    folder, regions = pages
    named_like_it = tmp_path / "b.xml"
    named_like_it.write_bytes(page_xml.serialize(regions, "IMG_0002.tif", PAGE_SIZE))
    mapped = tmp_path / "scan-7.xml"
    mapped.write_bytes(page_xml.serialize(regions, "IMG_0001.tif", PAGE_SIZE))
    table = tmp_path / "pages.tsv"
    table.write_text("page\tannotation\timage\n7\tgt/scan-7.xml\timages/a.png\n", encoding="utf-8")
    arguments = [str(named_like_it), str(mapped), "--images", str(folder), "--image-map", str(table)]
    build(tmp_path / "set", *arguments)
    info, records = read_dataset(tmp_path / "set")
    assert sorted({r.identifier for r in records}) == ["a.png", "b"] and info.counts["failed"] == 0


def test_client_errors_are_not_retried_and_network_errors_are(tmp_path: Path, pages) -> None:
    folder, _ = pages
    faulty = FailFirst(in_process_transport(folder).app, failures=0)

    async def fetch_missing() -> None:
        async with CropFetcher(transport=httpx.ASGITransport(app=faulty), retries=3, backoff=0.01) as fetcher:
            await fetcher.fetch("/gone.png/full/max/0/default.png")

    with pytest.raises(FetchError, match="404") as error:
        asyncio.run(fetch_missing())
    assert len(faulty.paths) == 1 and error.value.status == 404

    async def fetch_unreachable() -> None:
        async with CropFetcher("http://127.0.0.1:9", retries=2, backoff=0.01, timeout=2) as fetcher:
            await fetcher.fetch("/a.png/full/max/0/default.png")

    with pytest.raises(FetchError, match="network error") as error:
        asyncio.run(fetch_unreachable())
    assert error.value.status is None


def test_splits_are_deterministic_and_keep_each_page_whole(pages, tmp_path: Path) -> None:
    ratios = parse_ratios("8,1,1")
    assert ratios == pytest.approx({"train": 0.8, "val": 0.1, "test": 0.1})
    names = [f"page{n:04d}.png" for n in range(2000)]
    first = [split_of(name, 7, ratios) for name in names]
    assert first == [split_of(name, 7, ratios) for name in names]
    assert first != [split_of(name, 8, ratios) for name in names]  # the seed matters
    shares = {s: first.count(s) / len(names) for s in ("train", "val", "test")}
    assert shares == pytest.approx(ratios, abs=0.03)
    assert {split_of(name, 7, parse_ratios("0,0,1")) for name in names} == {"test"}
    folder, _ = pages
    build(tmp_path, str(folder), "--images", str(folder), "--splits", "0.5,0.5,0", "--seed", "3")
    _, records = read_dataset(tmp_path)
    by_page = {r.identifier: {x.split for x in records if x.identifier == r.identifier} for r in records}
    assert by_page == {p: {split_of(p, 3, parse_ratios("0.5,0.5,0"))} for p in ("a.png", "b.png")}


def write_formats(folder: Path, lines: list[AnnotatedRegion]) -> dict[str, Path]:
    """The lines of page `a.png` as ALTO, a IIIF AnnotationPage, W3C annotations and the project's JSON."""
    page = iiif.annotation_page(
        "https://example.org/anno/a", "https://example.org/iiif/3/a.png", lines, "supplementing"
    )
    w3c = [{"@context": "http://www.w3.org/ns/anno.jsonld", **annotation} for annotation in page["items"]]
    custom = {
        "image_id": "a.png",
        "regions": [{"id": r.id, "type": "line", "coordinates": r.polygon, "text": r.text} for r in lines],
    }
    documents = {
        "alto": alto_xml.serialize(lines, "a.png", PAGE_SIZE),
        "iiif": json.dumps(page).encode(),
        "w3c": json.dumps(w3c).encode(),
        "json": json.dumps(custom).encode(),
    }
    for name, data in documents.items():
        (folder / f"a.{name}").write_bytes(data)
    return {name: folder / f"a.{name}" for name in documents}


def test_every_annotation_format_gives_the_same_crops(pages, tmp_path: Path) -> None:
    folder, regions = pages
    lines = [r for r in regions if r.text]
    sources = {"page": folder / "a.page.xml", **write_formats(tmp_path, lines)}
    digests = {}
    for name, source in sources.items():
        build(tmp_path / name, str(source), "--images", str(folder))
        _, records = read_dataset(tmp_path / name)
        assert [r.text for r in records] == [r.text for r in lines], name
        assert {r.identifier for r in records} == {"a.png"}, name
        digests[name] = [r.sha256 for r in records]
    assert all(found == digests["page"] for found in digests.values()), digests
    assert identifier_of("https://example.org/iiif/3/a%2Fb.png/full/max/0/default.jpg") == "a/b.png"


def test_identifier_option_and_unreadable_annotation_files(pages, tmp_path: Path) -> None:
    folder, _ = pages
    build(tmp_path / "named", str(folder / "a.page.xml"), "--images", str(folder), "--identifier", "a")
    _, records = read_dataset(tmp_path / "named")
    assert [r.id for r in records] == ["a/l1", "a/l2", "a/l3"] and "/iiif/3/a/poly:" in records[0].url
    broken = tmp_path / "broken.xml"
    broken.write_text("<PcGts><Page", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_status:
        build(tmp_path / "set", str(broken), str(folder / "b.page.xml"), "--images", str(folder))
    assert exit_status.value.code == 1
    errors = [json.loads(line) for line in (tmp_path / "set" / "errors.jsonl").read_text().splitlines()]
    assert [e["file"] for e in errors] == [str(broken)] and errors[0]["reason"]
    assert len(read_dataset(tmp_path / "set")[1]) == 3


def test_folders_and_globs_take_one_annotation_file_per_page(pages, tmp_path: Path) -> None:
    folder, regions = pages
    assert [p.name for p in annotation_files([str(folder)])] == ["a.page.xml", "b.page.xml"]
    assert [p.name for p in annotation_files([str(folder / "*.xml")])] == ["a.page.xml", "b.page.xml"]
    with pytest.raises(SystemExit, match="exactly one"):
        build(tmp_path / "set", str(folder), "--images", str(folder), "--identifier", "a")
    formats = write_formats(tmp_path, [r for r in regions if r.text])
    paths = [folder / "a.page.xml", *formats.values()]

    async def collect() -> CollectedItems:
        async with CropFetcher(transport=in_process_transport(folder)) as fetcher:
            images = ImageFinder(fetcher.image_exists)
            return await collect_items(paths, ItemSelection(), 0, parse_ratios("1,0,0"), images)

    collected = asyncio.run(collect())
    assert len(collected.items) == 3 and not collected.problems  # a.png is read once, from its PAGE XML
    assert collected.skipped_counts()["page_read_from_another_file"] == len(formats)
