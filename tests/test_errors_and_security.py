"""Every refusal: its status, a plain-text reason, CORS; never a 500, never a file outside the folder."""

import pytest

from iiif_server.settings import Limits


def assert_refused(response, status: int, starts_with: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "no-store"
    assert response.text.strip()
    assert response.text.startswith(starts_with), response.text


BAD_REQUESTS = [
    # region
    ("abc/max/0/default.jpg", "region:"),
    ("1,2,3/max/0/default.jpg", "region:"),
    ("1,2,3,4,5/max/0/default.jpg", "region:"),
    ("-1,0,10,10/max/0/default.jpg", "region:"),
    ("0,0,0,10/max/0/default.jpg", "region:"),
    ("0,0,10,0/max/0/default.jpg", "region:"),
    ("400,0,10,10/max/0/default.jpg", "region:"),
    ("0,300,10,10/max/0/default.jpg", "region:"),
    ("1e2,0,10,10/max/0/default.jpg", "region:"),
    ("0.5,0,10,10/max/0/default.jpg", "region:"),
    ("pct:0,0,0,50/max/0/default.jpg", "region:"),
    ("pct:x,0,1,1/max/0/default.jpg", "region:"),
    ("pct:-5,0,10,10/max/0/default.jpg", "region:"),
    ("pct:100,0,10,10/max/0/default.jpg", "region:"),
    ("Full/max/0/default.jpg", "region:"),
    ("%20full/max/0/default.jpg", "region:"),
    ("/max/0/default.jpg", "region:"),
    # size
    ("full/abc/0/default.jpg", "size:"),
    ("full/100/0/default.jpg", "size:"),
    ("full/1,2,3/0/default.jpg", "size:"),
    ("full/,/0/default.jpg", "size:"),
    ("full/0,/0/default.jpg", "size:"),
    ("full/,0/0/default.jpg", "size:"),
    ("full/-5,/0/default.jpg", "size:"),
    ("full/pct:0/0/default.jpg", "size:"),
    ("full/pct:-5/0/default.jpg", "size:"),
    ("full/!0,100/0/default.jpg", "size:"),
    ("full/!100,/0/default.jpg", "size:"),
    ("full/full/0/default.jpg", "size:"),
    ("full/^/0/default.jpg", "size:"),
    ("full/max,/0/default.jpg", "size:"),
    ("full//0/default.jpg", "size:"),
    # upscaling without ^
    ("full/401,/0/default.jpg", "size:"),
    ("full/,301/0/default.jpg", "size:"),
    ("full/pct:101/0/default.jpg", "size:"),
    ("full/400,301/0/default.jpg", "size:"),
    ("0,0,100,100/200,/0/default.jpg", "size:"),
    ("full/!1000,1000/0/default.jpg", "size:"),  # as the official validator's size_noup expects
    # rotation
    ("full/max/-90/default.jpg", "rotation:"),
    ("full/max/361/default.jpg", "rotation:"),
    ("full/max/360.5/default.jpg", "rotation:"),
    ("full/max/abc/default.jpg", "rotation:"),
    ("full/max/!/default.jpg", "rotation:"),
    ("full/max/!!90/default.jpg", "rotation:"),
    ("full/max/90deg/default.jpg", "rotation:"),
    ("full/max/1e2/default.jpg", "rotation:"),
    ("full/max//default.jpg", "rotation:"),
    # quality
    ("full/max/0/best.jpg", "quality:"),
    ("full/max/0/grey.jpg", "quality:"),
    ("full/max/0/Default.jpg", "quality:"),
    ("full/max/0/.jpg", "quality:"),
    # format
    ("full/max/0/default", "format:"),
    ("full/max/0/default.jpeg", "format:"),
    ("full/max/0/default.PNG", "format:"),
    ("full/max/0/default.bmp", "format:"),
    ("full/max/0/default.", "format:"),
]


@pytest.mark.parametrize(("path", "parameter"), BAD_REQUESTS)
def test_malformed_parameters_are_400(client, path, parameter):
    assert_refused(client.get(f"/iiif/3/grid/{path}"), 400, parameter)


def test_bad_background_is_400(client):
    assert_refused(client.get("/iiif/3/alpha/full/max/0/default.jpg?bg=red"), 400, "bg:")


def test_background_fills_transparent_pixels(client, grid):
    response = client.get("/iiif/3/alpha/full/max/0/default.jpg?bg=ff0000")
    assert response.status_code == 200
    grid.assert_close(grid.decode(response.content)[150, 300], (255, 0, 0), 12)


NOT_FOUND = [
    "/iiif/3/nope/info.json",
    "/iiif/3/nope/full/max/0/default.jpg",
    "/iiif/3/grid.gif/info.json",
    "/iiif/3/sub/info.json",
    "/iiif/3/grid/full/max/0",
    "/iiif/3/grid/full/max",
    "/iiif/3/grid/full/max/0/default.jpg/extra",
    "/iiif/3/grid/info.xml",
    "/iiif/3/grid/info.json/extra",
    "/iiif/3/",
    "/iiif/3/grid/",
]


@pytest.mark.parametrize("path", NOT_FOUND)
def test_unknown_images_and_paths_are_404(client, path):
    assert_refused(client.get(path), 404)


def test_unknown_identifier_is_named(client):
    assert_refused(client.get("/iiif/3/nope/info.json"), 404, "identifier: no image with identifier 'nope'")


@pytest.mark.parametrize(
    ("limits", "path", "says"),
    [
        (Limits(max_width=200, max_height=None, max_area=None), "full/300,/0/default.jpg", "maxWidth"),
        (Limits(max_width=None, max_height=100, max_area=None), "full/,150/0/default.jpg", "maxHeight"),
        (Limits(max_width=None, max_height=None, max_area=10_000), "full/200,/0/default.jpg", "maxArea"),
        (Limits(max_width=500, max_height=None, max_area=None), "full/^600,/0/default.jpg", "maxWidth"),
        (Limits(max_width=None, max_height=None, max_area=10_000), "full/^pct:200/0/default.jpg", "maxArea"),
    ],
)
def test_beyond_the_limits_is_413(make_client, limits, path, says):
    response = make_client(limits=limits).get(f"/iiif/3/grid/{path}")
    assert_refused(response, 413, "size:")
    assert says in response.text


def test_within_the_limits_is_served(make_client):
    client = make_client(limits=Limits(max_width=200, max_height=150, max_area=30_000))
    assert client.get("/iiif/3/grid/full/200,150/0/default.jpg").status_code == 200


def test_source_beyond_max_source_pixels_is_413(make_client):
    client = make_client(max_source_pixels=119_999)
    for path in ("grid/info.json", "grid/full/max/0/default.jpg", "grid/0,0,10,10/max/0/default.png"):
        response = client.get(f"/iiif/3/{path}")
        assert_refused(response, 413, "identifier:")
        assert "IIIF_MAX_SOURCE_PIXELS" in response.text
    assert make_client(max_source_pixels=120_000).get("/iiif/3/grid/info.json").status_code == 200


@pytest.mark.parametrize("fmt", ["jp2", "pdf"])
def test_unoffered_formats_are_501(client, fmt):
    assert_refused(client.get(f"/iiif/3/grid/full/max/0/default.{fmt}"), 501, "format:")


@pytest.mark.parametrize(
    "path", ["broken/info.json", "broken/full/max/0/default.jpg", "broken.jp2/info.json"]
)
def test_undecodable_jp2_is_501(client, path):
    response = client.get(f"/iiif/3/{path}")
    assert_refused(response, 501, "identifier: cannot decode broken.jp2")


def test_decoder_errors_do_not_reveal_server_paths(client, image_root):
    response = client.get("/iiif/3/broken/info.json")
    assert response.status_code == 501
    assert str(image_root) not in response.text
    assert str(image_root.parent) not in response.text


def test_url_beyond_max_length_is_414(make_client):
    client = make_client(max_url_length=100)
    assert client.get("/iiif/3/grid/full/max/0/default.jpg").status_code == 200
    assert_refused(client.get("/iiif/3/grid/" + "1" * 100 + ",0,10,10/max/0/default.jpg"), 414)


ESCAPES = [
    "..%2F..%2Fetc%2Fpasswd",
    "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "sub%2F..%2F..%2Foutside%2Fsecret",
    "%2E%2E",
    "..%2F",
    "%2Fetc%2Fpasswd",
    "%2Fetc%2Fhostname",
    "%5Cetc%5Cpasswd",
    "..%5C..%5Cetc%5Cpasswd",
    "grid%00",
    "grid.png%00.jpg",
    "%00",
]


@pytest.mark.parametrize("identifier", ESCAPES)
def test_path_escapes_are_400(client, identifier):
    assert_refused(client.get(f"/iiif/3/{identifier}/info.json"), 400, "identifier:")
    assert_refused(client.get(f"/iiif/3/{identifier}/full/max/0/default.png"), 400, "identifier:")


def test_outside_file_exists_and_is_readable(image_root):
    """The symlinks below point at real, readable files: only the server's guard keeps them out."""
    assert (image_root / "escape.png").read_bytes().startswith(b"\x89PNG")
    assert (image_root / "outdir" / "secret.png").is_file()


@pytest.mark.parametrize("identifier", ["escape", "escape.png", "outdir%2Fsecret", "outdir%2Fsecret.png"])
def test_symlinks_out_of_the_folder_are_404(client, identifier):
    assert_refused(client.get(f"/iiif/3/{identifier}/info.json"), 404, "identifier:")
    assert_refused(client.get(f"/iiif/3/{identifier}/full/max/0/default.png"), 404, "identifier:")


def test_symlinks_within_the_folder_are_served_and_dangling_ones_are_404(tmp_path, image_root, make_client):
    (tmp_path / "grid.png").write_bytes((image_root / "grid.png").read_bytes())
    (tmp_path / "alias.png").symlink_to(tmp_path / "grid.png")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "missing.png")
    client = make_client(image_root=tmp_path)
    assert client.get("/iiif/3/alias/info.json").json()["width"] == 400
    assert_refused(client.get("/iiif/3/dangling/info.json"), 404, "identifier:")


def test_a_directory_is_not_an_image(client):
    assert_refused(client.get("/iiif/3/sub/info.json"), 404, "identifier:")
    assert_refused(client.get("/iiif/3/outdir/info.json"), 404, "identifier:")


def test_empty_identifier_is_refused(client):
    response = client.get("/iiif/3//info.json")
    assert response.status_code in (400, 404)
    assert response.text.strip()
