"""Who may read which image, and how much of it: the private-name rule (`access_policy`) applied to every name
an identifier resolves to (`canonical`), and the smaller size limits of clients without a known token."""

from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from .access_policy import AccessPolicy, principal_of
from .canonical import CanonicalNames
from .image_sources import ImageSources
from .settings import Limits, Settings


class ImageAccess:
    """The one access check of every route that resolves an identifier, and each client's size limits."""

    def __init__(self, settings: Settings, sources: ImageSources) -> None:
        self.policy = AccessPolicy(settings.service)
        self.names = CanonicalNames(sources.folder, sources.remote.service_url, settings.upstream.upstreams)
        self.limits = settings.limits
        # A client without a known bearer token gets at most IIIF_ANONYMOUS_MAX_AREA pixels per image.
        self.anonymous_limits = settings.limits.with_area_at_most(settings.anonymous_max_area)

    async def authorize(self, request: Request, identifier: str) -> tuple[str, ...]:
        """Raise 401 or 403 unless this request's client may read the image `identifier` names, by any of its
        names. Returns the private names (a job keeps them to check who reads it)."""
        if not self.policy.enabled:
            return ()
        names = await run_in_threadpool(self.names.of, identifier)
        return self.policy.check_identifier(principal_of(request.scope), identifier, names)

    def check_reader(self, request: Request, label: str, private: Iterable[str]) -> None:
        """Raise 401 or 403 unless this request's client may read every one of the `private` names (what a
        job was made from); `label` names the thing in the refusal."""
        self.policy.check_identifier(principal_of(request.scope), label, private)

    def listed(self, identifiers: Iterable[str]) -> list[str]:
        """The identifiers that are public by every name (listings never show private ones)."""
        if not self.policy.enabled:
            return list(identifiers)
        return [i for i in identifiers if not any(map(self.policy.is_private, self.names.of(i)))]

    def limits_for(self, request: Request) -> Limits:
        """The size limits of this request's client: the anonymous ones unless it sent a known token."""
        return self.limits if principal_of(request.scope).digest else self.anonymous_limits

    @property
    def token_matters(self) -> bool:
        """Whether a token changes the limits (answers then vary by `Authorization`)."""
        return self.anonymous_limits != self.limits
