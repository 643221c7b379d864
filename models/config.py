"""Training configs: a YAML file read into the trainer's frozen dataclasses, strictly (dacite)."""

from pathlib import Path
from typing import TypeVar

import dacite
import yaml

T = TypeVar("T")
# YAML 1.1 reads `1e-3` (no dot) as a string: float fields take such strings as numbers.
CONVERSIONS = dacite.Config(strict=True, cast=[Path, tuple], type_hooks={float: float})


class ConfigError(ValueError):
    """A config file that cannot be read, or whose keys or values do not fit the trainer's config."""


def load_config(path: Path | str, kind: type[T]) -> T:
    """The YAML file at `path` as an instance of the dataclass `kind`; unknown, missing or mistyped keys
    raise `ConfigError` naming the key path (e.g. `optimizer.learning_rate`)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"config {path}: {exc}") from exc
    return config_from_dict(raw if raw is not None else {}, kind, str(path))


def config_from_dict(raw: object, kind: type[T], origin: str = "config") -> T:
    """A nested mapping as an instance of the dataclass `kind` (lists become tuples, strings Paths)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: expected a mapping of keys, got {type(raw).__name__}")
    try:
        return dacite.from_dict(kind, raw, config=CONVERSIONS)
    except (dacite.DaciteError, ValueError) as exc:
        raise ConfigError(f"{origin}: {exc}") from exc
