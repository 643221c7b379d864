"""info.json answers kept and sent again before the middlewares: the same bytes and headers as the full path,
304s, and the full path again whenever the answer could differ (file changed, token, private names, time)."""

import os
import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from iiif_server.access import token_digest
from iiif_server.app import IIIFImageAPI, create_app
from iiif_server.info_answers import RESOLVED_FOR_S
from iiif_server.service_settings import ServiceSettings
from iiif_server.settings import Limits, Settings

INFO = "/iiif/3/grid/info.json"
SAME = ("etag", "last-modified", "cache-control", "link", "vary", "content-type", "content-length")


@pytest.fixture
def folder(image_root: Path, tmp_path: Path) -> Path:
    shutil.copy(image_root / "grid.png", tmp_path / "grid.png")
    return tmp_path


@pytest.fixture
def full_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The info.json requests that reached the Image API's own handler."""
    calls: list[str] = []
    original = IIIFImageAPI.info

    async def counted(self, request, identifier, version):
        calls.append(identifier)
        return await original(self, request, identifier, version)

    monkeypatch.setattr(IIIFImageAPI, "info", counted)
    return calls


def client_on(folder: Path, **options: object) -> TestClient:
    return TestClient(create_app(Settings(image_root=folder, **options)))  # type: ignore[arg-type]


def test_a_repeated_info_json_is_the_same_answer_without_the_full_path(folder, full_path_calls):
    with client_on(folder) as client:
        first, second = client.get(INFO), client.get(INFO)
        assert full_path_calls == ["grid"]
        assert second.status_code == 200 and second.content == first.content
        assert all(second.headers[name] == first.headers[name] for name in SAME)
        assert second.headers["access-control-allow-origin"] == "*" and "x-request-id" in second.headers
        again = client.get(INFO, headers={"If-None-Match": first.headers["etag"]})
        since = client.get(INFO, headers={"If-Modified-Since": first.headers["last-modified"]})
        stale = client.get(INFO, headers={"If-None-Match": '"other"'})
        assert (again.status_code, since.status_code, stale.status_code) == (304, 304, 200)
        assert again.content == b"" and again.headers["etag"] == first.headers["etag"]
        assert full_path_calls == ["grid"]


def test_each_way_of_asking_has_its_own_answer(folder, full_path_calls):
    with client_on(folder) as client:
        plain = client.get(INFO)
        jsonld = client.get(INFO, headers={"Accept": "application/ld+json"})
        other_host = client.get(INFO, headers={"Host": "images.example"})
        v2 = client.get("/iiif/2/grid/info.json")
        assert plain.headers["content-type"] == "application/json"
        assert jsonld.headers["content-type"].startswith("application/ld+json")
        assert other_host.json()["id"] == "http://images.example/iiif/3/grid"
        assert v2.json()["@id"].endswith("/iiif/2/grid")
        assert len(full_path_calls) == 4
        for headers in ({}, {"Accept": "application/ld+json"}, {"Host": "images.example"}):
            client.get(INFO, headers=headers)
        client.get("/iiif/2/grid/info.json")
        assert len(full_path_calls) == 4


def test_a_changed_or_removed_file_is_described_again(folder, full_path_calls):
    with client_on(folder) as client:
        before = client.get(INFO)
        os.utime(folder / "grid.png", (1_000_000_000, 1_000_000_000))
        after = client.get(INFO)
        assert after.headers["etag"] != before.headers["etag"]
        assert after.headers["last-modified"] == "Sun, 09 Sep 2001 01:46:40 GMT"
        (folder / "grid.png").unlink()
        assert client.get(INFO).status_code == 404
        assert len(full_path_calls) == 3


def test_a_token_takes_the_full_path_with_its_own_limits(folder, full_path_calls):
    service = ServiceSettings(tokens=frozenset({token_digest("t")}))
    limits = Limits(max_width=300, max_height=300, max_area=None)
    with client_on(folder, service=service, limits=limits, anonymous_max_area=10_000) as client:
        anonymous = client.get(INFO).json()
        with_token = client.get(INFO, headers={"Authorization": "Bearer t"}).json()
        client.get(INFO, headers={"Authorization": "Bearer t"})
        assert anonymous["maxArea"] == 10_000 and "maxArea" not in with_token
        assert len(full_path_calls) == 3


def test_private_names_are_checked_on_every_request(folder, full_path_calls):
    service = ServiceSettings(tokens=frozenset({token_digest("t")}), private_prefixes=("secret",))
    with client_on(folder, service=service) as client:
        for _ in range(2):
            assert client.get(INFO).status_code == 200
        assert client.get("/iiif/3/secret/info.json").status_code == 401
        assert len(full_path_calls) == 2


def test_the_identifier_is_resolved_again_after_a_while(folder, full_path_calls):
    with client_on(folder) as client:
        answers = client.app.state.iiif.info_answers
        now = [100.0]
        answers.clock = lambda: now[0]
        client.get(INFO)
        client.get(INFO)
        now[0] += RESOLVED_FOR_S + 0.1
        client.get(INFO)
        assert len(full_path_calls) == 2
