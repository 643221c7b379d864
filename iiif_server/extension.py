"""What an extension plugs into the core: region syntaxes, info.json services and extra routes."""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute

from .region import RegionParser


@dataclass(frozen=True)
class Extension:
    """A plain-Python plug-in; the core is a plain IIIF server when none is loaded."""

    name: str
    region_syntaxes: Mapping[str, RegionParser] = field(default_factory=dict)
    info_services: Callable[[str], list[dict[str, Any]]] | None = None
    routes: Sequence[BaseRoute] = ()
