"""The one reader of environment variables: typed reads in which an unset or blank variable keeps the default.

Settings classes read through an `Env` (their `read(env)`); the server builds them all once at start
(`extensions.server_settings.ServerSettings.from_env`), and the README's settings table lists every name read.
"""

import os
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


class Env:
    """Typed reads of a set of environment variables: the process's own, or a mapping given (tests)."""

    def __init__(self, variables: Mapping[str, str] | None = None) -> None:
        self.variables = os.environ if variables is None else variables

    def text(self, name: str, default: str = "") -> str:
        """A text setting."""
        return self.variables.get(name, "").strip() or default

    def integer(self, name: str, default: int) -> int:
        """A whole-number setting."""
        return self._converted(name, default, int, "a whole number")

    def decimal(self, name: str, default: float) -> float:
        """A decimal setting."""
        return self._converted(name, default, float, "a number")

    def limit(self, name: str, default: int | None) -> int | None:
        """A limit: a positive whole number, or `0` for none."""
        value = self.integer(name, 0 if default is None else default)
        return value if value > 0 else None

    def flag(self, name: str, default: bool) -> bool:
        """A yes/no setting: `1`, `true`, `yes` or `on` mean yes."""
        raw = self.text(name).lower()
        return raw in TRUE_WORDS if raw else default

    def items(self, name: str) -> tuple[str, ...]:
        """A comma-separated list, each item stripped, blank ones left out."""
        return tuple(item.strip() for item in self.text(name).split(",") if item.strip())

    def _converted(self, name: str, default: T, convert: Callable[[str], T], expected: str) -> T:
        raw = self.text(name)
        try:
            return convert(raw) if raw else default
        except ValueError:
            raise ValueError(f"{name}={raw!r}: expected {expected}") from None
