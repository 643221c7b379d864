"""The rotation parameter: `n` or `!n` (mirror first), n a decimal from 0 to 360."""

import math
from dataclasses import dataclass

from .errors import bad_request
from .numbers import format_decimal, parse_decimal


@dataclass(frozen=True)
class Rotation:
    """Degrees clockwise, applied after an optional horizontal mirror."""

    degrees: float = 0.0
    mirror: bool = False

    @property
    def canonical(self) -> str:
        """The canonical form: `!` for mirroring, the angle without trailing zeros."""
        return ("!" if self.mirror else "") + format_decimal(self.degrees)

    @property
    def is_right_angle(self) -> bool:
        """True when the rotation is a multiple of 90 degrees (no interpolation, no background)."""
        return self.degrees % 90 == 0

    def extent(self, width: float, height: float) -> tuple[float, float]:
        """The exact size of the box around a `width` x `height` image once rotated (mirroring: the same)."""
        if self.is_right_angle:
            return (height, width) if self.degrees % 180 == 90 else (width, height)
        turn = math.radians(self.degrees)
        cos, sin = abs(math.cos(turn)), abs(math.sin(turn))
        return width * cos + height * sin, width * sin + height * cos

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """The size libvips gives a `width` x `height` image rotated by this angle: its extent, rounded."""
        extent_w, extent_h = self.extent(width, height)
        return max(1, round(extent_w)), max(1, round(extent_h))


def parse_rotation(text: str) -> Rotation:
    """Parse the rotation segment or raise a 400."""
    mirror = text.startswith("!")
    degrees = parse_decimal(text[1:] if mirror else text, "rotation")
    if degrees > 360:
        raise bad_request("rotation", f"{degrees:g} is outside 0 to 360")
    return Rotation(degrees, mirror)
