"""The one error type of the server: an HTTP status, the parameter at fault and a short reason."""

import re

QUOTE_CHARS = 80
REASON_CHARS = 1000
_LONG_RUN = re.compile(rf"\S{{{QUOTE_CHARS + 1},}}")


def bounded(text: str) -> str:
    """`text` with every run of more than QUOTE_CHARS non-blank characters (a quoted input) cut to its first
    QUOTE_CHARS and '…', and no longer than REASON_CHARS: an error never echoes a long input in full."""
    text = _LONG_RUN.sub(lambda run: run.group()[:QUOTE_CHARS] + "…", text)
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS] + "…"


class IIIFError(Exception):
    """A request the server refuses; turned into a plain-text response by the app's one handler."""

    def __init__(
        self, status: int, reason: str, parameter: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        reason = bounded(reason)
        super().__init__(status, reason, parameter)
        self.status = status
        self.reason = reason
        self.parameter = parameter
        self.headers = headers or {}  # e.g. Retry-After, WWW-Authenticate

    def __str__(self) -> str:
        return f"{self.parameter}: {self.reason}" if self.parameter else self.reason


def bad_request(parameter: str, reason: str) -> IIIFError:
    """A malformed or impossible parameter (HTTP 400)."""
    return IIIFError(400, reason, parameter)
