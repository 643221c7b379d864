"""info.json as prepared bytes: an answer the Image API made once for a folder image is kept with its headers
and sent again from inside the request log and CORS, before access control, body limits, back-pressure and the
router, none of which a static JSON answer needs when no identifier is private.

An answer is sent again while its file is unchanged (same inode, size and modification time, one `stat` per
request) and for at most `RESOLVED_FOR_S` after its identifier was last resolved to that file; then the full
path answers, resolves again and keeps the new answer. Requests that could be answered differently are never
short-cut: a bearer token (other limits), a body, a URL over IIIF_MAX_URL_LENGTH, any method but GET.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from .byte_cache import ByteBoundedCache
from .http_cache import is_not_modified

RESOLVED_FOR_S = 1.0
FileSignature = tuple[int, int, int]  # inode, size, modification time in ns
RawHeaders = list[tuple[bytes, bytes]]
# The request headers an info.json answer depends on (the base URL's, the media type's) or that send it the
# full way; the validators are read for the 304.
READ = frozenset(
    {
        b"host",
        b"accept",
        b"authorization",
        b"content-length",
        b"transfer-encoding",
        b"if-none-match",
        b"if-modified-since",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-prefix",
    }
)
FULL_WAY = (b"authorization", b"content-length", b"transfer-encoding")


def file_signature(path: str) -> FileSignature:
    """What changes when a file is replaced or written (OSError when it is gone)."""
    stat = os.stat(path)
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


@dataclass(frozen=True)
class InfoAnswer:
    """One info.json answer: its 200 and 304 headers and body, and the file it describes."""

    path: str
    signature: FileSignature
    resolved_at: float
    etag: str
    mtime: float
    headers: RawHeaders
    not_modified_headers: RawHeaders
    body: bytes


def answer_size(answer: InfoAnswer) -> int:
    """The bytes an answer holds, about."""
    return len(answer.body) + sum(len(k) + len(v) for k, v in answer.headers) * 2 + 256


class InfoAnswers:
    """The kept answers, by everything in the request that the answer depends on."""

    def __init__(
        self,
        prefixes: tuple[str, ...],
        max_url_length: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefixes = tuple(prefix.encode() for prefix in prefixes)
        self.max_url_length = max_url_length
        self.clock = clock
        self.kept: ByteBoundedCache[tuple[object, ...], InfoAnswer] = ByteBoundedCache(max_bytes, answer_size)

    def key(self, scope: Scope) -> tuple[tuple[object, ...], dict[bytes, bytes]] | None:
        """The key of an info.json request that may be answered from what is kept, with the request headers
        read; None for anything else."""
        raw = scope.get("raw_path") or scope["path"].encode()
        if (
            scope["method"] != "GET"
            or not raw.endswith(b"/info.json")
            or not raw.startswith(self.prefixes)
            or len(raw) + len(scope.get("query_string", b"")) > self.max_url_length
        ):
            return None
        headers = {name: value for name, value in scope["headers"] if name in READ}
        if any(name in headers for name in FULL_WAY):
            return None
        jsonld = b"application/ld+json" in headers.get(b"accept", b"")
        forwarded = (headers.get(b"x-forwarded-proto"), headers.get(b"x-forwarded-host"))
        server = tuple(scope.get("server") or ())
        base = (scope.get("scheme"), headers.get(b"host"), server, scope.get("root_path"))
        return (raw, jsonld, base, forwarded, headers.get(b"x-forwarded-prefix")), headers

    def keep(self, scope: Scope, answer: InfoAnswer) -> None:
        """Keep the answer the full path made for this request, when it may be sent again."""
        found = self.key(scope)
        if found is not None:
            self.kept.put(found[0], answer)

    def made_now(
        self, path: str, mtime: float, etag: str, headers: RawHeaders, not_modified: RawHeaders, body: bytes
    ) -> InfoAnswer | None:
        """An answer for the file at `path` as it is now; None when it changed since it was described."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        if stat.st_mtime != mtime:
            return None
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        return InfoAnswer(path, signature, self.clock(), etag, mtime, headers, not_modified, body)

    def find(self, scope: Scope) -> tuple[InfoAnswer, bool] | None:
        """The kept answer for this request while its file is unchanged, and whether it is a 304."""
        found = self.key(scope)
        if found is None:
            return None
        key, headers = found
        answer = self.kept.get(key)
        if answer is None or self.clock() - answer.resolved_at > RESOLVED_FOR_S:
            return None
        try:
            if file_signature(answer.path) != answer.signature:
                return None
        except OSError:
            return None
        validators = {
            name.decode(): value.decode("latin-1")
            for name, value in headers.items()
            if name in (b"if-none-match", b"if-modified-since")
        }
        return answer, bool(validators) and is_not_modified(validators, answer.etag, answer.mtime)


class InfoShortPath:
    """Answers kept info.json requests at once; everything else goes on to the app."""

    def __init__(self, app: ASGIApp, answers: InfoAnswers) -> None:
        self.app = app
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.answers.find(scope) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        answer, not_modified = found
        if not_modified:
            await send({"type": "http.response.start", "status": 304, "headers": answer.not_modified_headers})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": answer.headers})
        await send({"type": "http.response.body", "body": answer.body})
