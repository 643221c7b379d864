"""Typed reads of environment variables: an unset or blank variable keeps the default."""

import os

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_int(name: str, default: int) -> int:
    """An integer setting."""
    raw = _raw(name)
    return int(raw) if raw else default


def env_float(name: str, default: float) -> float:
    """A decimal setting."""
    raw = _raw(name)
    return float(raw) if raw else default


def env_limit(name: str, default: int | None) -> int | None:
    """A limit: a positive integer, or `0` for none."""
    raw = _raw(name)
    if not raw:
        return default
    value = int(raw)
    return value if value > 0 else None


def env_flag(name: str, default: bool) -> bool:
    """A yes/no setting: `1`, `true`, `yes` or `on` mean yes."""
    raw = _raw(name).lower()
    return raw in TRUE_WORDS if raw else default


def env_text(name: str, default: str = "") -> str:
    """A text setting."""
    return _raw(name) or default
