"""Accessors for decoded JSON that raise AnnotationError where indexing would raise KeyError or TypeError."""

from typing import Any

from .documents import DOCUMENT
from .model import AnnotationError

Json = dict[str, Any]


def as_object(value: Any, label: str, what: str = "annotation") -> Json:
    """The value when it is a JSON object, else an AnnotationError naming `label`."""
    if not isinstance(value, dict):
        raise AnnotationError(label, f"{what} is not a JSON object")
    return value


def field(value: Json, *names: str) -> Any:
    """The first present spelling of a property (`id` or `@id`, `target` or `on`), else None."""
    return next((value[name] for name in names if name in value), None)


def optional_str(value: Json, label: str, *names: str) -> str | None:
    """A string property, or None when absent; any other JSON type is an error."""
    found = field(value, *names)
    if found is not None and not isinstance(found, str):
        raise AnnotationError(label, f"{names[0]} is not a string")
    return found


def kind_of(value: Json) -> str:
    """The JSON-LD type without its compact prefix (`oa:Annotation` -> `Annotation`); '' if there is none."""
    kind = field(value, "type", "@type")
    return kind.rpartition(":")[2] if isinstance(kind, str) else ""


def label_of(value: Json, path: str) -> str:
    """An object's id, or its path in the document when it has none."""
    identifier = optional_str(value, path, "id", "@id")
    return identifier or path


def listed(items: Any, path: str, what: str = "annotation") -> list[tuple[str, Json]]:
    """The objects of a JSON list, each labelled by its id or else `path[index]`."""
    if not isinstance(items, list):
        raise AnnotationError(path or DOCUMENT, f"expected a list of {what}s")
    labelled = ((f"{path}[{index}]", item) for index, item in enumerate(items))
    return [(label_of(as_object(item, at, what), at), item) for at, item in labelled]
