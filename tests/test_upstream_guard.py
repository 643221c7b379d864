"""What upstream URLs, answers and images the server refuses: only configured prefixes (scheme, host, port,
path) are fetched, redirects included; refusals look alike and name no host or port; hostile info.json
values and control characters are clear errors; upstream images are checked for format and pixel count from
their header before they are decoded."""

import asyncio
import ipaddress
import json
import socket
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpcore
import httpx
import pytest
import pyvips
from fault_upstream import free_port, serve_in_thread, upstream_settings
from fixed_models import FixedModels
from starlette.testclient import TestClient

from extensions.job_settings import JobSettings
from extensions.jobs import jobs_extension
from iiif_server.app import create_app
from iiif_server.checked_connections import CheckedAddressBackend, checked_transport
from iiif_server.errors import IIIFError
from iiif_server.settings import Settings
from iiif_server.upstream_settings import UpstreamSettings, parse_allowed_hosts, parse_upstreams
from iiif_server.url_guard import allowed_target

pytest_plugins = ["upstream_fixtures"]
pytestmark = pytest.mark.usefixtures("time_bound")

GRID_INFO = {
    "@context": "http://iiif.io/api/image/3/context.json",
    "id": "x",
    "type": "ImageService3",
    "profile": "level2",
    "width": 400,
    "height": 300,
}
LINE = ((20.0, 30.0), (220.0, 30.0), (220.0, 70.0), (20.0, 70.0))
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><rect width="200" height="200"/></svg>'
)


class Probe:
    """An HTTP service on another loopback port, which no test configures: it logs what reaches it."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.requests.append(scope["path"])
        await send(
            {"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"internal admin: not found"})


@pytest.fixture(scope="module")
def probe() -> Iterator[tuple[Probe, str]]:
    app = Probe()
    with serve_in_thread(app) as base:
        yield app, base


def info_path(identifier: str) -> str:
    return f"/iiif/3/{quote(identifier, safe='')}/info.json"


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says `width` x `height` (grey) but whose pixel data stops after one row: decoding
    it fails, reading its header does not."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    first_row = zlib.compress(bytes(width + 1))[:-4]  # no end of the stream
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", first_row) + chunk(b"IEND", b"")


# Item 4: only configured prefixes, whatever asks.


def test_another_port_of_an_upstream_host_is_refused_alike_open_or_closed(make_server, faults, probe) -> None:
    server = make_server()
    answers = []
    for base in (probe[1], f"http://127.0.0.1:{free_port()}"):
        answers.append(server.get(info_path(f"{base}/admin")))
        answers.append(server.get(f"/iiif/3/{quote(base + '/admin', safe='')}/full/max/0/default.png"))
        answers.append(server.post("/mask/batch", json={"iiif_base_url": f"{base}/admin", "annotations": []}))
    assert {(a.status_code, a.text) for a in answers} == {(403, answers[0].text)}, [a.text for a in answers]
    assert "127.0.0.1" not in answers[0].text and "IIIF_UPSTREAMS" in answers[0].text
    assert probe[0].requests == [] and faults.requests == []
    assert server.get("/metrics/cache").json()["upstreams"] == {}  # no breaker made for a refused host


def test_url_identifiers_only_under_a_configured_prefix(make_server, faults, upstream) -> None:
    server = make_server()
    assert server.get(info_path(f"{upstream[1]}/iiif/3/grid")).json()["width"] == 400
    faults.requests.clear()
    for outside in (f"{upstream[1]}/other/grid", f"{upstream[1]}/iiif/grid", f"{upstream[1]}/iiif/3x/grid"):
        assert server.get(info_path(outside)).status_code == 403, outside
    assert faults.requests == []


@pytest.mark.parametrize(
    "identifier",
    ["up:..", "up:.", "up:grid/..", "up:a/../../x", "up:%2E%2E", "up:%2e%2e/grid", "up:%252E%252E"],
)
def test_dot_segments_never_leave_the_prefix(make_server, faults, identifier: str) -> None:
    server = make_server()
    assert server.get(info_path(identifier)).status_code == 403
    assert server.get(f"/iiif/3/{quote(identifier, safe='')}/full/max/0/default.png").status_code == 403
    assert faults.requests == []


def test_url_identifiers_with_dot_segments_are_refused(make_server, faults, upstream) -> None:
    server = make_server()
    for identifier in (f"{upstream[1]}/iiif/3/../info", f"{upstream[1]}/iiif/3/%2E%2E/x"):
        assert server.get(info_path(identifier)).status_code == 403, identifier
    assert faults.requests == []


def test_a_redirect_to_another_port_is_refused(make_server, faults, probe) -> None:
    server = make_server(breaker_threshold=100)
    server.get("/iiif/3/up:grid/info.json")
    faults.mode, faults.redirect_to = "redirect", f"{probe[1]}/admin"
    response = server.get("/iiif/3/up:grid/full/max/0/default.png")
    assert response.status_code == 403 and "127.0.0.1" not in response.text, response.text
    assert probe[0].requests == []


PUBLIC = "93.184.215.14"  # a global address, never connected to: the tests refuse or record first


def fake_resolver(
    monkeypatch: pytest.MonkeyPatch, host: str, answers: list[list[str]], delay: float = 0.0
) -> list[list[str]]:
    """Make name resolution (socket.getaddrinfo, which loop.getaddrinfo and anyio run) answer `host` after
    `delay` seconds with the next of `answers` on each call, the last one ever after; other names resolve as
    before. Returns the answers given, one list per call."""
    real, given = socket.getaddrinfo, []

    def resolve(name: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if name not in (host, host.encode()):  # anyio asks with the IDNA-encoded name
            return real(name, port, *args, **kwargs)
        time.sleep(delay)
        given.append(answers[min(len(given), len(answers) - 1)])
        found = [(ipaddress.ip_address(a), a) for a in given[-1]]
        return [
            (socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for ip, a in found
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return given


def test_a_host_that_resolves_to_loopback_after_the_check_is_refused(make_server, monkeypatch) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # a loopback service: counts TCP connections
    listener.setblocking(False)
    port = listener.getsockname()[1]
    given = fake_resolver(monkeypatch, "rebind.example", [[PUBLIC], ["127.0.0.1"]])
    server = make_server(allow_private=False, upstreams={"rb": f"http://rebind.example:{port}/iiif/3/"})
    with listener:
        response = server.get("/iiif/3/rb:grid/info.json")
        assert response.status_code == 403 and "non-public address" in response.text, response.text
        assert "127.0.0.1" not in response.text and len(given) == 2  # the check, the connection: no retries
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection reached the loopback service


def test_a_name_that_resolves_slower_than_the_upstream_timeout_is_502(make_server, monkeypatch) -> None:
    fake_resolver(monkeypatch, "slow.example", [[PUBLIC]], delay=2.0)  # the upstream timeout is 1 s
    server = make_server(allow_private=False, upstreams={"slow": "http://slow.example/iiif/3/"})
    response = server.get("/iiif/3/slow:grid/info.json")
    assert response.status_code == 502 and "cannot be resolved" in response.text, response.text


def test_connections_go_to_the_checked_address_and_tls_names_the_host(monkeypatch) -> None:
    """Each connection the pool opens resolves the host once and connects to a checked address (the
    next one when one does not answer); TLS is started with the host name, so it sends and verifies it."""
    connected: list[str] = []
    tls_names: list[str] = []

    class Stream(httpcore.AsyncNetworkStream):
        async def start_tls(self, ssl_context: Any, server_hostname: str | None = None, **_: Any) -> Any:
            tls_names.append(str(server_hostname))
            raise httpcore.ConnectError("recorded")

    class Recorder(httpcore.AsyncNetworkBackend):
        async def connect_tcp(self, host: str, port: int, *_: Any, **__: Any) -> httpcore.AsyncNetworkStream:
            connected.append(host)
            if host == "2606:2800:21f:cb07:6820:80da:af6b:8b2c":
                raise httpcore.ConnectError("unreachable")
            return Stream()

    answers = [["2606:2800:21f:cb07:6820:80da:af6b:8b2c", PUBLIC], ["127.0.0.1", PUBLIC]]
    given = fake_resolver(monkeypatch, "rebind.example", answers)
    backend = CheckedAddressBackend(allow_private=False, inner=Recorder())

    async def fetch_twice() -> list[BaseException]:
        transport = checked_transport(backend, httpx.Limits(max_connections=1))
        async with httpx.AsyncClient(transport=transport) as http:
            outcomes = []
            for _ in range(2):
                try:
                    await http.get("https://rebind.example/iiif/3/x/info.json")
                except (httpx.ConnectError, IIIFError) as error:
                    outcomes.append(error)
            return outcomes

    first, second = asyncio.run(fetch_twice())
    assert isinstance(first, httpx.ConnectError) and tls_names == ["rebind.example"]
    assert isinstance(second, IIIFError) and second.status == 403, second
    assert connected == ["2606:2800:21f:cb07:6820:80da:af6b:8b2c", PUBLIC] and len(given) == 2


def test_a_jobs_manifest_on_another_port_is_refused(image_root, upstream, faults, probe) -> None:
    settings = Settings(image_root=image_root, upstream=upstream_settings(upstream[1]))
    app = create_app(settings, [jobs_extension(JobSettings(threads=1), registry=object())])
    with TestClient(app) as client:
        response = client.post("/jobs", json={"manifest": f"{probe[1]}/manifest.json"})
    assert response.status_code == 403 and "127.0.0.1" not in response.text, response.text
    assert probe[0].requests == []


def job_pages(
    image_root: Path, upstream: str, identifiers: list[str], **settings: Any
) -> list[dict[str, Any]]:
    """The pages of a finished /jobs job on `identifiers`, read with stand-in models by a server whose `up:`
    prefix names the upstream (`settings`: more of its Settings)."""
    options = Settings(image_root=image_root, upstream=upstream_settings(upstream), **settings)
    app = create_app(options, [jobs_extension(JobSettings(threads=1), registry=FixedModels([LINE]))])
    with TestClient(app) as client:
        created = client.post("/jobs", json={"identifiers": identifiers})
        assert created.status_code == 202, created.text
        deadline = time.monotonic() + 20
        while (job := client.get(created.json()["url"]).json())["status"] not in ("finished", "failed"):
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
    return job["pages"]


def test_a_job_page_on_another_port_is_not_fetched(image_root, upstream, faults, probe) -> None:
    refused, read = job_pages(
        image_root, upstream[1], [f"{probe[1]}/iiif/3/grid", f"{upstream[1]}/iiif/3/grid"]
    )
    assert refused["status"] == "failed" and refused["error"].startswith("403"), refused
    assert "127.0.0.1" not in refused["error"] and probe[0].requests == []
    assert read["status"] == "finished" and read["lines"] == 1, read


def test_allowed_hosts_carry_scheme_and_port() -> None:
    prefixes = UpstreamSettings(
        upstreams=parse_upstreams("up=http://127.0.0.1:8721/iiif/3/"),
        allowed_hosts=parse_allowed_hosts(
            "images.example.org, *.example.net, https://iiif.example.com:8443/iiif/"
        ),
    ).prefixes
    table = {
        "http://127.0.0.1:8721/iiif/3/x/info.json": ("127.0.0.1", 8721),
        "http://127.0.0.1:8721/iiif/3/ark:%2F1%2Fx/info.json": ("127.0.0.1", 8721),
        "http://127.0.0.1:8799/admin/info.json": None,
        "http://127.0.0.1/iiif/3/x": None,
        "https://127.0.0.1:8721/iiif/3/x": None,
        "http://127.0.0.1:8721/iiif/x": None,
        "http://127.0.0.1:8721/iiif/3/../x": None,
        "http://127.0.0.1:8721/iiif/3/%2e%2E/x": None,
        "http://user@127.0.0.1:8721/iiif/3/x": None,
        "http://127.0.0.1:8721\\@example.net/iiif/3/x": None,
        "http://127.0.0.1:8721/iiif/3/a b": None,
        "http://127.0.0.1:8721/iiif/3/a\x00b": None,
        "http://2130706433:8721/iiif/3/x": None,
        "http://images.example.org/x": ("images.example.org", 80),
        "https://images.example.org/x": ("images.example.org", 443),
        "https://IMAGES.example.org:443/x": ("images.example.org", 443),
        "http://images.example.org:443/x": None,
        "http://images.example.org:8080/x": None,
        "ftp://images.example.org/x": None,
        "https://a.b.example.net/x": ("a.b.example.net", 443),
        "https://a.example.net:8443/x": None,
        "https://example.net/x": None,
        "https://iiif.example.com:8443/iiif/x": ("iiif.example.com", 8443),
        "http://iiif.example.com:8443/iiif/x": None,
        "https://iiif.example.com/iiif/x": None,
        "https://iiif.example.com:8443/x": None,
    }
    assert {url: allowed_target(url, prefixes) for url in table} == table


@pytest.mark.parametrize(
    "entry", ["ftp://images.example.org", "host:99999", "http://h/a/../b", "http://h/?q", "h h"]
)
def test_bad_allowed_hosts_entries_are_refused_at_start(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_allowed_hosts(entry)


def test_upstream_failures_name_no_host_or_port(make_server, faults) -> None:
    server = make_server()
    for path, status in (("/iiif/3/dead:grid/info.json", 502), ("/iiif/3/up:missing/info.json", 404)):
        response = server.get(path)
        assert response.status_code == status and "127.0.0.1" not in response.text, response.text
        assert "Error(" not in response.text


# Item 7: upstream images are checked from their header, before any pixel is decoded.


@pytest.mark.parametrize("content_type", ["image/svg+xml", "image/png"])
def test_an_upstream_svg_is_refused_by_its_loader(make_server, faults, content_type: str) -> None:
    server = make_server(breaker_threshold=100)
    server.get("/iiif/3/up:grid/info.json")
    faults.mode, faults.canned = "canned", (content_type, SVG)
    response = server.get("/iiif/3/up:grid/full/max/0/default.png")
    assert response.status_code == 501 and "svgload" in response.text, response.text


def test_an_upstream_image_over_the_pixel_limit_is_refused_from_its_header(make_server, faults) -> None:
    server = make_server(max_source_pixels=1_000_000, breaker_threshold=100)
    server.get("/iiif/3/up:grid/info.json")
    faults.mode, faults.canned = "canned", ("image/png", png_header_only(30_000, 30_000))
    response = server.get("/iiif/3/up:grid/full/max/0/default.png")  # decoding would fail (502): it never did
    assert response.status_code == 413 and "IIIF_MAX_SOURCE_PIXELS=1000000" in response.text, response.text
    faults.canned = ("image/png", pyvips.Image.black(2000, 2000).pngsave_buffer())
    assert server.get("/iiif/3/up:grid/full/max/0/default.png").status_code == 413
    faults.mode = None
    assert server.get("/iiif/3/up:grid/full/max/0/default.png").status_code == 200


def test_an_upstream_info_over_the_pixel_limit_is_413(make_server, faults) -> None:
    server = make_server(max_source_pixels=119_999)
    assert server.get("/iiif/3/up:grid/info.json").status_code == 413
    assert server.get("/iiif/3/up:grid/0,0,10,10/max/0/default.png").status_code == 413
    assert [p for p in faults.requests if not p.endswith("info.json")] == []


def test_a_job_page_is_checked_before_it_is_read(image_root, upstream, faults) -> None:
    (too_large,) = job_pages(image_root, upstream[1], ["up:grid"], max_source_pixels=119_999)
    assert too_large["status"] == "failed" and too_large["error"].startswith("413"), too_large
    assert [p for p in faults.requests if not p.endswith("info.json")] == []
    faults.mode, faults.canned = "canned", ("image/jpeg", SVG)
    (vector,) = job_pages(image_root, upstream[1], ["up:grid"])
    assert vector["status"] == "failed" and vector["error"].startswith("501"), vector


# Item 11: hostile info.json values and control characters.


@pytest.mark.parametrize(
    "changes",
    [
        {"width": 0},
        {"width": -400},
        {"width": True},
        {"width": 400.5},
        {"width": "400"},
        {"width": [400]},
        {"height": None},
        {"width": 10**30},
        {"maxWidth": "abc"},
        {"maxWidth": 0},
        {"maxArea": -1},
        {"maxHeight": False},
        {"sizes": "big"},
        {"sizes": [1, 2]},
        {"sizes": [{"width": "a", "height": 3}]},
        {"sizes": [{"width": 0, "height": 3}]},
    ],
)
def test_hostile_info_values_are_502(make_server, faults, changes: dict[str, Any]) -> None:
    server = make_server()
    faults.info_body = json.dumps({**GRID_INFO, **changes}).encode()
    response = server.get("/iiif/3/up:grid/full/max/0/default.png")
    assert response.status_code == 502 and "info.json" in response.text, response.text


@pytest.mark.parametrize(
    "body",
    [
        b'{"width": 1e999, "height": 300}',
        b"[400, 300]",
        b'"info"',
        b"[" * 100_000,
        b'{"width": 4' + b"0" * 5000,
    ],
)
def test_unreadable_info_documents_are_502(make_server, faults, body: bytes) -> None:
    server = make_server()
    faults.info_body = body
    response = server.get("/iiif/3/up:grid/info.json")
    assert response.status_code == 502 and "info.json" in response.text, response.text


@pytest.mark.parametrize(
    "changes",
    [
        {"profile": "level1", "extraFormats": 5},
        {
            "@context": "http://iiif.io/api/image/2/context.json",
            "type": None,
            "profile": ["http://iiif.io/api/image/2/level1.json", {"formats": 7, "qualities": None}],
        },
    ],
)
def test_odd_format_lists_are_ignored(make_server, faults, changes: dict[str, Any]) -> None:
    server = make_server()
    faults.info_body = json.dumps({**GRID_INFO, **changes}).encode()
    response = server.get("/iiif/3/up:grid/full/100,/0/default.jpg")
    assert response.status_code == 200, response.text
    assert pyvips.Image.new_from_buffer(response.content, "").width == 100


@pytest.mark.parametrize("text", ["a\x00b", "a\x1fb", "a\x7fb", "a\tb"])
def test_control_characters_in_upstream_identifiers_are_400(make_server, faults, upstream, text: str) -> None:
    server = make_server()
    for identifier in (f"up:{text}", f"{upstream[1]}/iiif/3/{text}"):
        response = server.get(info_path(identifier))
        assert response.status_code == 400 and "control characters" in response.text, response.text
    assert faults.requests == []


def test_url_identifiers_with_spaces_are_refused(make_server, faults, upstream) -> None:
    server = make_server()
    assert server.get(info_path(f"{upstream[1]}/iiif/3/a b")).status_code == 403
    assert faults.requests == []
