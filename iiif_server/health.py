"""`/healthz` (the process answers) and `/readyz` (it can serve: images readable, cache reachable, models
loaded or loadable); each check is reported as `ok`/`loaded`/`loadable` or the reason it failed."""

import os
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from .services import Services

NO_STORE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> Response:
    """200 while the process serves requests at all."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


def check_images(root: os.PathLike[str]) -> str:
    """The image folder exists and can be listed."""
    with os.scandir(root) as entries:
        next(entries, None)
    return "ok"


def check_redis(url: str) -> str:
    """Redis answers PING (a client of its own, with short time-outs)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def run_checks(services: "Services") -> tuple[bool, dict[str, Any]]:
    """Every check, run in turn; a failing one is reported with its reason and makes the answer 503."""
    checks: dict[str, Any] = {}
    ready = True

    def attempt(name: str, check: Any, *args: Any) -> None:
        nonlocal ready
        try:
            checks[name] = check(*args)
        except Exception as error:  # a check's failure is its result, never a 500
            ready = False
            checks[name] = f"failed: {type(error).__name__}: {error}"[:300]

    attempt("images", check_images, services.settings.image_root)
    redis_url = services.settings.cache.redis_url
    if redis_url:
        attempt("cache", check_redis, redis_url)
    else:
        checks["cache"] = "ok (in memory)"
    for extension in services.extensions:
        if extension.readiness is not None:
            attempt(extension.name, extension.readiness)
    return ready, checks


async def readyz(services: "Services", request: Request) -> Response:
    """200 with the checks when every one passes, else 503 with the same JSON."""
    ready, checks = await run_in_threadpool(run_checks, services)
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)
