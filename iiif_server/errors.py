"""The one error type of the server: an HTTP status, the parameter at fault and a short reason."""

from dataclasses import dataclass


@dataclass(frozen=True)
class IIIFError(Exception):
    """A request the server refuses; turned into a plain-text response by the app's one handler."""

    status: int
    reason: str
    parameter: str | None = None

    def __str__(self) -> str:
        return f"{self.parameter}: {self.reason}" if self.parameter else self.reason


def bad_request(parameter: str, reason: str) -> IIIFError:
    """A malformed or impossible parameter (HTTP 400)."""
    return IIIFError(400, reason, parameter)
