"""The groups a line is scored in: its structure type, how it was synthesised, and its slant."""

import math
from collections.abc import Mapping

from extensions.line_crops import skew_angle

Polygon = tuple[tuple[float, float], ...]
SLANT_BINS = ((2.0, "0-2°"), (5.0, "2-5°"), (10.0, "5-10°"), (math.inf, "10+°"))
"""Upper bound (exclusive) of |angle| in degrees, and the group's name."""


def slant_group(angle: float) -> str:
    """The slant bin of an angle in degrees (either direction)."""
    return next(name for bound, name in SLANT_BINS if abs(angle) < bound)


def line_groups(properties: Mapping[str, str], region_type: str, polygon: Polygon) -> dict[str, str]:
    """`structure.type` (the region type when the line has none), `synthetic.kind` when known, and `slant`
    from `synthetic.angle` or, without one, from the polygon's minimum rotated rectangle."""
    groups = {"structure.type": properties.get("structure.type") or region_type}
    if properties.get("synthetic.kind"):
        groups["synthetic.kind"] = properties["synthetic.kind"]
    if properties.get("synthetic.angle"):
        groups["slant"] = slant_group(float(properties["synthetic.angle"]))
    elif len(polygon) >= 3:
        groups["slant"] = slant_group(skew_angle(polygon))
    return groups
