"""Who a request comes from, and which image names they may read: the one rule for private identifiers.

The `AccessControl` middleware works out the principal (the digest of a known bearer token, and whether a
token was sent at all) and keeps it in the ASGI scope; routes ask `AccessPolicy.check_identifier` about the
names an identifier resolves to (see `canonical.py`), so that every spelling of an image meets one rule.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.types import Scope

from .errors import IIIFError
from .service_settings import ServiceSettings

REALM = 'Bearer realm="iiif"'
PRINCIPAL_KEY = "iiif_server.principal"


@dataclass(frozen=True)
class Principal:
    """The client of one request: the digest of its known bearer token (None without one), and whether it
    sent a bearer token at all (an unknown one is answered `invalid_token`)."""

    digest: str | None = None
    presented: bool = False


ANONYMOUS = Principal()


def principal_of(scope: Scope) -> Principal:
    """The principal the middleware stored for this request; anonymous when none was stored."""
    return scope.get(PRINCIPAL_KEY, ANONYMOUS)


def require_token(principal: Principal, reason: str) -> None:
    """401 with a `WWW-Authenticate` challenge unless a known token was sent."""
    if principal.digest is None:
        challenge = f'{REALM}, error="invalid_token"' if principal.presented else REALM
        message = "unknown bearer token" if principal.presented else reason
        raise IIIFError(401, message, None, {"WWW-Authenticate": challenge})


class AccessPolicy:
    """`IIIF_PRIVATE_PREFIXES` and `IIIF_TOKEN_SCOPES` applied to image names.

    A name is private when it starts with a private prefix, compared case-insensitively (a file system that
    ignores case would serve `SECRET-x` as `secret-x`); a scoped token may read a private name that starts
    with one of its prefixes, compared exactly. Both comparisons err towards refusing.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.private_prefixes = tuple(prefix.casefold() for prefix in settings.private_prefixes)

    @property
    def enabled(self) -> bool:
        """Whether any identifier is private (without private prefixes every image is public)."""
        return bool(self.private_prefixes)

    def is_private(self, name: str) -> bool:
        """Whether `name` starts with a private prefix, whatever its case."""
        return name.casefold().startswith(self.private_prefixes)

    def check_identifier(
        self, principal: Principal, identifier: str, names: Iterable[str]
    ) -> tuple[str, ...]:
        """Raise 401 or 403 unless `principal` may read every private one of `names`, the names `identifier`
        resolves to (messages name only the identifier as asked for); returns those private names."""
        private = tuple(name for name in names if self.is_private(name))
        if private:
            require_token(principal, f"{identifier!r} is private: it needs a bearer token")
        allowed = self.settings.scope_of(principal.digest or "")
        if allowed is not None and not all(name.startswith(allowed) for name in private):
            raise IIIFError(403, f"this token may not read {identifier!r}", "identifier")
        return private
