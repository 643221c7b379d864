"""Request bodies are limited before they are read: at once by `Content-Length`, or by counting a streamed
(chunked) body as the app reads it. Uploaded images may have a larger limit on the routes that take them."""

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .asgi_errors import send_error
from .errors import IIIFError


@dataclass(frozen=True)
class SizeLimit:
    """The most bytes of a body, and the setting that says so (named in the 413)."""

    max_bytes: int
    setting: str

    def exceeded_by(self, content_length: str) -> bool:
        """Whether a `Content-Length` says more than `max_bytes` (more than 18 digits always does)."""
        digits = content_length.isascii() and content_length.isdigit()
        return digits and (len(content_length) > 18 or int(content_length) > self.max_bytes)

    def refusal(self) -> IIIFError:
        """The 413 of a body over this limit."""
        return IIIFError(
            413, f"the request body is larger than {self.max_bytes} bytes ({self.setting})", "body"
        )


def is_upload(content_type: str) -> bool:
    """An uploaded image: an `image/*` or `application/octet-stream` body (anything else is read as JSON)."""
    media_type = content_type.split(";")[0].strip().lower()
    return media_type.startswith("image/") or media_type == "application/octet-stream"


class BodyLimits:
    """Answers 413 for a body over its limit: `uploads` maps paths to the limit of an image body sent there,
    every other body has `default`."""

    def __init__(self, app: ASGIApp, default: SizeLimit, uploads: Mapping[str, SizeLimit]) -> None:
        self.app = app
        self.default = default
        self.uploads = uploads

    def limit_of(self, scope: Scope, headers: Headers) -> SizeLimit:
        """The limit of this request's body."""
        upload = self.uploads.get(scope["path"])
        return upload if upload is not None and is_upload(headers.get("content-type", "")) else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = self.limit_of(scope, headers)
        if limit.exceeded_by(headers.get("content-length", "")):
            await send_error(limit.refusal(), scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            """The next message; raises the 413 (to the app's handler) once the body grows over the limit."""
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    raise limit.refusal()
            return message

        await self.app(scope, counted, send)
