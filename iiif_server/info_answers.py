"""info.json as prepared bytes: an answer the Image API made once for a folder image is kept with its headers
and sent again by the short path (`short_path.py`).

An answer is sent again while its file is unchanged (same inode, size and modification time, one `stat` per
request) and for at most `RESOLVED_FOR_S` after its identifier was last resolved to that file; then the full
path answers, resolves again and keeps the new answer.
"""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import Scope

from .byte_cache import ByteBoundedCache
from .http_cache import is_not_modified
from .short_path import VALIDATORS, Prepared, RawHeaders, plain_get

RESOLVED_FOR_S = 1.0
FileSignature = tuple[int, int, int]  # inode, size, modification time in ns


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
        prefixes: tuple[bytes, ...],
        max_url_length: int,
        max_bytes: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.prefixes = prefixes
        self.max_url_length = max_url_length
        self.clock = clock
        self.kept: ByteBoundedCache[tuple[object, ...], InfoAnswer] = ByteBoundedCache(max_bytes, answer_size)

    def key(self, scope: Scope) -> tuple[tuple[object, ...], dict[bytes, bytes]] | None:
        """The key of an info.json request that may be answered from what is kept, with the request headers
        read; None for anything else."""
        headers = plain_get(scope, self.prefixes, self.max_url_length)
        raw = scope.get("raw_path") or scope["path"].encode()
        if headers is None or not raw.endswith(b"/info.json"):
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

    def find(self, scope: Scope) -> Prepared | None:
        """The kept answer for this request (a 304 when the validators match) while its file is unchanged."""
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
            name.decode(): value.decode("latin-1") for name, value in headers.items() if name in VALIDATORS
        }
        if validators and is_not_modified(validators, answer.etag, answer.mtime):
            return 304, answer.not_modified_headers, b""
        return 200, answer.headers, answer.body
