"""The names of the image an identifier resolves to, which access is checked on: every spelling of one image
(`./x`, `a//b`, `x/.`, `x.tif`, a symlink, `up:./x`, an upstream's service URL) meets the same rule."""

import posixpath
from collections.abc import Callable, Mapping
from urllib.parse import unquote, urlsplit

from .errors import IIIFError
from .sources import FolderSource
from .url_guard import DEFAULT_PORTS


def normalised(path: str) -> str:
    """`path` without `.` segments and repeated, leading or trailing slashes, `..` folded in."""
    return posixpath.normpath(path).lstrip("/") if path else path


def comparable_url(url: str) -> str:
    """`scheme://host:port/path` as a server reads it: lower-case scheme and host, the port written out,
    the path percent-decoded (the URL as given when it cannot be read)."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        return url
    return f"{scheme}://{parts.hostname or ''}:{port}{unquote(parts.path)}"


class CanonicalNames:
    """Resolves identifiers as the routes do: upstream ones by their service URL, others in the folder."""

    def __init__(
        self, source: FolderSource, service_url: Callable[[str], str | None], upstreams: Mapping[str, str]
    ) -> None:
        self.source = source
        self.service_url = service_url
        self.upstreams = upstreams

    def of(self, identifier: str) -> tuple[str, ...]:
        """The identifier as written and normalised, and the canonical name of its image (blocking: it may
        follow symlinks). A missing image has only the written names: they are checked before its 404."""
        service = self.service_url(identifier)
        found = self.in_folder(identifier) if service is None else self.upstream(service)
        return tuple(dict.fromkeys((identifier, normalised(identifier), *found)))

    def in_folder(self, identifier: str) -> tuple[str, ...]:
        """The real file's path under the image root, symlinks followed, with its suffix (any prefix of the
        name without the suffix is a prefix of this one too)."""
        try:
            path = self.source.resolve(identifier)
        except IIIFError:  # no such image, or a refused identifier: the route answers it
            return ()
        return (path.relative_to(self.source.root).as_posix(),)

    def upstream(self, service: str) -> tuple[str, ...]:
        """The service URL, and `prefix:id` for each configured upstream it falls under (both read as
        `comparable_url`, the rest normalised as the upstream would)."""
        names, url = [service], comparable_url(service)
        for prefix, base in self.upstreams.items():
            root = comparable_url(base)
            if url.startswith(root):
                names.append(f"{prefix}:{normalised(url[len(root) :])}")
        return tuple(names)
