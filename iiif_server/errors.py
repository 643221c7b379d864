"""The one error type of the server: an HTTP status, the parameter at fault and a short reason."""


class IIIFError(Exception):
    """A request the server refuses; turned into a plain-text response by the app's one handler."""

    def __init__(
        self, status: int, reason: str, parameter: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
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
