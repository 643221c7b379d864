"""Train/val/test assignment by page: a hash of the page identifier and the seed, so a page never leaks."""

import hashlib
from collections.abc import Mapping

SPLIT_NAMES = ("train", "val", "test")


def parse_ratios(text: str) -> dict[str, float]:
    """`0.8,0.1,0.1` as {"train": 0.8, "val": 0.1, "test": 0.1}, normalised to sum to 1."""
    parts = [float(part) for part in text.split(",")]
    if len(parts) != len(SPLIT_NAMES) or any(p < 0 for p in parts) or sum(parts) <= 0:
        raise ValueError(f"splits must be three non-negative numbers train,val,test, not {text!r}")
    total = sum(parts)
    return {name: part / total for name, part in zip(SPLIT_NAMES, parts, strict=True)}


def page_position(page: str, seed: int) -> float:
    """A number in [0, 1) fixed by the page identifier and the seed (the same on every machine and run)."""
    digest = hashlib.sha256(f"{seed}\0{page}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(page: str, seed: int, ratios: Mapping[str, float]) -> str:
    """The split all lines of `page` go to."""
    position, upper = page_position(page, seed), 0.0
    for name in SPLIT_NAMES:
        upper += ratios.get(name, 0.0)
        if position < upper:
            return name
    return next(name for name in reversed(SPLIT_NAMES) if ratios.get(name, 0.0) > 0)
