"""Strict parsing of the decimal numbers that IIIF URLs carry, and the one rounding rule."""

import math
import re

from .errors import bad_request

# ASCII only: `\d` alone would also accept Arabic-Indic, fullwidth and other scripts' digits.
_INTEGER = re.compile(r"\d+", re.ASCII)
_DECIMAL = re.compile(r"(\d+(\.\d*)?|\.\d+)", re.ASCII)
MAX_NUMBER_CHARS = 32
"""The longest number read: ample for any pixel position, size, percentage or angle, and far from what
breaks the arithmetic (int() refuses more than 4300 digits, float() gives infinity past 308)."""


def bounded_number(text: str, parameter: str) -> str:
    """`text` when it is no longer than MAX_NUMBER_CHARS, else a 400: every number of a URL passes here."""
    if len(text) > MAX_NUMBER_CHARS:
        raise bad_request(
            parameter, f"a number of {len(text)} characters; at most {MAX_NUMBER_CHARS} are read"
        )
    return text


def parse_int(text: str, parameter: str) -> int:
    """A non-negative integer written with digits only (no sign, no exponent)."""
    if not _INTEGER.fullmatch(text):
        raise bad_request(parameter, f"{text!r} is not a non-negative integer")
    return int(bounded_number(text, parameter))


def parse_decimal(text: str, parameter: str) -> float:
    """A non-negative decimal such as `12`, `12.5` or `.5` (no sign, exponent, NaN or infinity)."""
    if not _DECIMAL.fullmatch(text):
        raise bad_request(parameter, f"{text!r} is not a non-negative decimal number")
    return float(bounded_number(text, parameter))


def round_half_up(value: float) -> int:
    """The project's one rounding rule for derived pixel values: halves round up."""
    return math.floor(value + 0.5)


def format_decimal(value: float) -> str:
    """A number as the canonical URL writes it: no trailing zeros, no exponent."""
    if value == int(value):
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")
