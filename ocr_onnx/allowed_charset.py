"""The characters a recogniser may write (a manifest's `allowed_charset`): named sets, code point ranges and
listed characters, and which of the model's classes they leave."""

import re
import string
from collections.abc import Sequence
from typing import Any

import numpy as np


def _code_points(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


NAMED_SETS: dict[str, str] = {
    # A-Z, a-z and the letters of Latin-1 Supplement, Latin Extended-A and B: U+00C0-U+024F without the
    # multiplication and division signs.
    "latin": string.ascii_letters + _code_points(0xC0, 0x24F).replace("\u00d7", "").replace("\u00f7", ""),
    "digits": string.digits,
    "ascii_punctuation": string.punctuation,
    "space": " ",
}
FIELDS = ("sets", "ranges", "characters")
RANGE = re.compile(r"U\+([0-9A-Fa-f]{4,6})-U\+([0-9A-Fa-f]{4,6})")


def allowed_characters(raw: dict[str, Any]) -> frozenset[str]:
    """The characters a manifest's `allowed_charset` names: `sets` (keys of NAMED_SETS), `ranges`
    (`"U+2018-U+201E"`, both ends included) and `characters` (a string); unknown names are refused."""
    if not isinstance(raw, dict) or not raw or set(raw) - set(FIELDS):
        raise ValueError(f"allowed_charset must be an object with some of {list(FIELDS)}, not {raw!r}")
    sets, ranges, listed = raw.get("sets", []), raw.get("ranges", []), raw.get("characters", "")
    if not (isinstance(sets, list) and isinstance(ranges, list) and isinstance(listed, str)):
        raise ValueError("allowed_charset: 'sets' and 'ranges' must be lists, 'characters' a string")
    unknown = [name for name in sets if name not in NAMED_SETS]
    if unknown:
        raise ValueError(f"allowed_charset: unknown sets {unknown}; known: {sorted(NAMED_SETS)}")
    characters = set(listed).union(*(NAMED_SETS[name] for name in sets))
    for text in ranges:
        match = RANGE.fullmatch(str(text))
        if match is None or int(match[1], 16) > int(match[2], 16):
            raise ValueError(f"allowed_charset: {text!r} is not a range like 'U+2018-U+201E'")
        characters.update(_code_points(int(match[1], 16), int(match[2], 16)))
    return frozenset(characters)


def allowed_classes(charset: Sequence[str], allowed: frozenset[str] | None) -> np.ndarray | None:
    """Which classes decoding may choose (the CTC blank, class 0, always), or None when all may; a
    ValueError when the allowed characters leave none of the model's."""
    if allowed is None:
        return None
    mask = np.array([index == 0 or character in allowed for index, character in enumerate(charset)])
    if not mask[1:].any():
        raise ValueError(f"allowed_charset leaves none of the model's {len(charset) - 1} characters")
    return mask
