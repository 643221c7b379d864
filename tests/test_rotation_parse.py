"""The rotation parameter (IIIF Image API 3.0, section 4.3): `n` or `!n`, n a decimal from 0 to 360."""

import pytest

from iiif_server.errors import IIIFError
from iiif_server.rotation import Rotation, parse_rotation

# (rotation text, degrees, mirrored, canonical text, multiple of 90 degrees)
PARSED = [
    # the spec's examples
    ("0", 0.0, False, "0", True),
    ("180", 180.0, False, "180", True),
    ("90", 90.0, False, "90", True),
    ("22.5", 22.5, False, "22.5", False),
    ("!0", 0.0, True, "!0", True),
    ("!180", 180.0, True, "!180", True),
    ("!345", 345.0, True, "!345", False),
    # the range ends
    ("270", 270.0, False, "270", True),
    ("360", 360.0, False, "360", True),
    ("!360", 360.0, True, "!360", True),
    # canonical numbers: an integer if possible, no trailing zeros, a leading 0 below 1
    ("90.0", 90.0, False, "90", True),
    ("090", 90.0, False, "90", True),
    ("22.50", 22.5, False, "22.5", False),
    ("5.", 5.0, False, "5", False),
    ("0.5", 0.5, False, "0.5", False),
    (".5", 0.5, False, "0.5", False),
    ("!.25", 0.25, True, "!0.25", False),
    ("0.125", 0.125, False, "0.125", False),
    ("359.999", 359.999, False, "359.999", False),
    ("45", 45.0, False, "45", False),
    ("!22.5", 22.5, True, "!22.5", False),
    ("360.0", 360.0, False, "360", True),
]


@pytest.mark.parametrize(("text", "degrees", "mirror", "canonical", "right_angle"), PARSED)
def test_rotation_parses(text: str, degrees: float, mirror: bool, canonical: str, right_angle: bool) -> None:
    """Angles and mirroring parse exactly; the canonical text follows section 4.7."""
    rotation = parse_rotation(text)
    assert rotation == Rotation(degrees, mirror)
    assert rotation.canonical == canonical
    assert rotation.is_right_angle is right_angle


def test_default_rotation() -> None:
    """The default rotation is no rotation and no mirroring."""
    assert Rotation() == Rotation(0.0, False)
    assert Rotation().canonical == "0"


ERRORS = [
    "",
    "!",
    "!!90",
    "90!",
    "-90",
    "-0",
    "!-1",
    "+90",
    "360.1",
    "361",
    "720",
    "!361",
    "1e2",
    "1E2",
    "nan",
    "NaN",
    "inf",
    "Infinity",
    "90deg",
    "90 ",
    " 90",
    "9 0",
    "90,0",
    "1.2.3",
    ".",
    "0x10",
    "1_0",
    "\u0669\u0660",
    "\uff19\uff10",
]


@pytest.mark.parametrize("text", ERRORS)
def test_rotation_errors(text: str) -> None:
    """Out-of-range or malformed rotations are a 400 on `rotation`."""
    with pytest.raises(IIIFError) as caught:
        parse_rotation(text)
    assert caught.value.status == 400
    assert caught.value.parameter == "rotation"
