"""The rotation parameter: `n` or `!n` (mirror first), n a decimal from 0 to 360."""

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


def parse_rotation(text: str) -> Rotation:
    """Parse the rotation segment or raise a 400."""
    mirror = text.startswith("!")
    degrees = parse_decimal(text[1:] if mirror else text, "rotation")
    if degrees > 360:
        raise bad_request("rotation", f"{degrees:g} is outside 0 to 360")
    return Rotation(degrees, mirror)
