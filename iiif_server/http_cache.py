"""HTTP validators: ETag and Last-Modified for a response, and the 304 decision."""

import hashlib
from collections.abc import Mapping
from email.utils import formatdate, parsedate_to_datetime
from functools import lru_cache


def make_etag(*parts: object) -> str:
    """A strong ETag from everything that determines the response bytes."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def http_date(timestamp: float) -> str:
    """An RFC 9110 date for a Unix timestamp."""
    return _http_date(int(timestamp))


@lru_cache(maxsize=1024)
def _http_date(seconds: int) -> str:
    """`formatdate` is slow for what it does and a source's mtime is formatted on every response."""
    return formatdate(seconds, usegmt=True)


def is_not_modified(headers: Mapping[str, str], etag: str, mtime: float) -> bool:
    """True when the client's copy is current (`If-None-Match` wins over `If-Modified-Since`); `headers` by
    lower-case name (Starlette's `Headers` or a plain dict)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in tags or "*" in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return int(mtime) <= since
    return False


def validator_headers(etag: str, mtime: float, max_age: int) -> dict[str, str]:
    """The caching headers sent with both the 200 and the 304."""
    return {"ETag": etag, "Last-Modified": http_date(mtime), "Cache-Control": f"public, max-age={max_age}"}
