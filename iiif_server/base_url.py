"""The public base URL that `id`s, redirects and Link headers are built on."""

from starlette.requests import Request


def _first(value: str) -> str:
    return value.split(",")[0].strip()


def public_base_url(request: Request, configured: str | None, trust_forwarded: bool) -> str:
    """The configured base URL, else `X-Forwarded-*` when trusted, else the request's own base."""
    if configured:
        return configured
    if trust_forwarded:
        proto = _first(request.headers.get("x-forwarded-proto", request.url.scheme))
        host = _first(request.headers.get("x-forwarded-host", request.headers.get("host", "")))
        prefix = _first(request.headers.get("x-forwarded-prefix", "")).rstrip("/")
        if host:
            return f"{proto}://{host}{prefix}"
    return str(request.base_url).rstrip("/")
