"""Bearer tokens (stored hashed), protected groups, private identifiers and the rate limit."""

import hashlib
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from extensions.jobs import JOBS
from extensions.masking import BATCH
from extensions.ocr import OCR_SIDECARS
from extensions.server_settings import ServerSettings
from iiif_server.access import TokenBucket, token_digest
from iiif_server.app import create_app
from iiif_server.extension import Extension, Sidecar
from iiif_server.route_label import LabelledRoute
from iiif_server.service_settings import (
    ServiceSettings,
    parse_digests,
    parse_groups,
    parse_rate,
    parse_scopes,
)
from iiif_server.settings import Settings

ADMIN, READER, OUTSIDER = "admin-secret", "reader-secret", "outsider-secret"
OCR_SIDECAR_NAMES = ("ocr.json", "ocr", "ocr.alto.xml", "ocr.page.xml", "regions.json")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def reached(request: Request, *segments: object) -> Response:
    return PlainTextResponse("reached")


def protected_routes() -> Extension:
    """The routes and sidecars of the `batch`, `jobs` and `ocr` groups, labelled as their extensions label
    them, each answering at once."""
    return Extension(
        name="groups",
        routes=[
            LabelledRoute(Route("/mask/batch", reached, methods=["POST"]), BATCH),
            LabelledRoute(Route("/jobs", reached, methods=["POST"]), JOBS),
            LabelledRoute(Route("/jobs/{rest:path}", reached), JOBS),
        ],
        sidecars={name: Sidecar(reached, OCR_SIDECARS) for name in OCR_SIDECAR_NAMES},
    )


def client_for(image_root: Path, **service: object) -> TestClient:
    settings = Settings(image_root=image_root, service=ServiceSettings(**service))  # type: ignore[arg-type]
    return TestClient(create_app(settings, [protected_routes()]))


def test_tokens_are_configured_as_sha256_digests() -> None:
    assert token_digest("secret") == hashlib.sha256(b"secret").hexdigest()
    assert parse_digests(f" {token_digest('a').upper()} ,{token_digest('b')}") == {
        token_digest("a"),
        token_digest("b"),
    }
    with pytest.raises(ValueError, match="not SHA-256"):
        parse_digests("secret")  # a token in clear is refused
    assert parse_scopes(f"{token_digest('a')}=sub/|loc:") == ((token_digest("a"), ("sub/", "loc:")),)
    assert parse_groups("batch, OCR") == {"batch", "ocr"}
    assert parse_rate("60/minute") == (60, 60.0)
    assert parse_rate("5/seconds") == (5, 1.0)
    assert parse_rate("") is None
    with pytest.raises(ValueError):
        parse_rate("lots")


def test_settings_come_from_the_environment() -> None:
    environment = {
        "IIIF_TOKENS": token_digest(ADMIN),
        "IIIF_PROTECT": "batch,ocr,jobs",
        "IIIF_RATE_LIMIT": "10/hour",
        "IIIF_PRIVATE_PREFIXES": "sub/,private-",
        "IIIF_MAX_IN_FLIGHT": "3",
        "IIIF_REQUEST_TIMEOUT": "2.5",
        "IIIF_LOG_FORMAT": "text",
    }
    settings = ServerSettings.from_env(environment).core
    service = settings.service
    assert service.tokens == {token_digest(ADMIN)}
    assert service.protect == {"batch", "ocr", "jobs"}
    assert service.rate_limit == (10, 3600.0)
    assert service.private_prefixes == ("sub/", "private-")
    assert (service.max_in_flight, service.request_timeout, service.log_format) == (3, 2.5, "text")
    assert token_digest(ADMIN) not in str(settings)  # kept out of repr (and out of ETags)


def test_protect_names_only_groups_the_loaded_extensions_declare(image_root: Path) -> None:
    """An unknown group stops the server at start, with the groups it could have named."""
    with pytest.raises(ValueError, match=r"IIIF_PROTECT.*\['tiles'\].*\['batch', 'jobs', 'ocr'\]"):
        client_for(image_root, protect=frozenset({"tiles"}))
    service = ServiceSettings(protect=frozenset({"ocr"}))
    with pytest.raises(ValueError, match=r"\['ocr'\].*none"):
        create_app(Settings(image_root=image_root, service=service))  # no extension: no group


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/mask/batch"),
        ("POST", "/jobs"),
        ("GET", "/jobs/1234"),
        ("GET", "/iiif/3/grid.png/ocr.json"),
        ("GET", "/iiif/3/grid.png/regions.json"),
        ("GET", "/iiif/3/grid.png/ocr.alto.xml"),
        ("GET", "/iiif/3/grid.png/ocr.page.xml"),
        ("GET", "/iiif/3/grid.png/0,0,10,10/ocr"),
    ],
)
def test_protected_groups_need_a_known_token(image_root: Path, method: str, path: str) -> None:
    with client_for(
        image_root, tokens=frozenset({token_digest(ADMIN)}), protect=frozenset({"batch", "ocr", "jobs"})
    ) as client:
        missing = client.request(method, path)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Bearer realm="iiif"'
        wrong = client.request(method, path, headers=bearer("guess"))
        assert wrong.status_code == 401
        assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
        # With the token the request reaches its handler.
        assert client.request(method, path, headers=bearer(ADMIN)).status_code == 200


def test_iiif_image_requests_stay_public(image_root: Path) -> None:
    with client_for(
        image_root, tokens=frozenset({token_digest(ADMIN)}), protect=frozenset({"batch", "ocr"})
    ) as client:
        assert client.get("/iiif/3/grid.png/info.json").status_code == 200
        assert client.get("/iiif/3/grid.png/full/50,/0/default.png").status_code == 200
        assert client.get("/iiif/3/grid.png/info.json", headers=bearer("stale")).status_code == 200


def test_private_identifiers_answer_401_then_403_then_200(image_root: Path) -> None:
    scopes = ((token_digest(READER), ("sub/",)), (token_digest(OUTSIDER), ("other/",)))
    settings = {
        "tokens": frozenset({token_digest(ADMIN)}),
        "token_scopes": scopes,
        "private_prefixes": ("sub/",),
    }
    with client_for(image_root, **settings) as client:
        info = "/iiif/3/sub%2Fimg.png/info.json"
        tile = "/iiif/3/sub%2Fimg.png/full/40,/0/default.jpg"
        for path in (info, tile):
            anonymous = client.get(path)
            assert anonymous.status_code == 401
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            assert anonymous.headers["access-control-allow-origin"] == "*"  # the browser can read the 401
            assert client.get(path, headers=bearer(OUTSIDER)).status_code == 403
            assert client.get(path, headers=bearer(READER)).status_code == 200
            assert client.get(path, headers=bearer(ADMIN)).status_code == 200  # no scope: every identifier
        assert client.get("/iiif/3/grid.png/info.json").status_code == 200


def test_the_rate_limit_answers_429_with_retry_after_per_client(image_root: Path) -> None:
    with client_for(image_root, tokens=frozenset({token_digest(ADMIN)}), rate_limit=(2, 60.0)) as client:
        path = "/iiif/3/grid.png/ocr.json"  # the ocr group: limited even when not protected
        assert [client.get(path).status_code for _ in range(2)] == [200, 200]
        limited = client.get(path)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 30
        assert client.get(path, headers=bearer(ADMIN)).status_code == 200  # a token has its own bucket
        assert client.get("/iiif/3/grid.png/info.json").status_code == 200  # IIIF requests are not limited


def test_the_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(3, 30.0, clock=lambda: now[0])  # one request every 10 s, bursts of 3
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == pytest.approx(10.0)
    assert bucket.take("b") == 0.0
    now[0] = 10.0
    assert bucket.take("a") == 0.0
    assert bucket.take("a") > 0
