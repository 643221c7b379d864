"""Where text goes on a page: an affine map, then an optional vertical sine wave (a curved line)."""

import math
from dataclasses import dataclass, replace

import numpy as np

Matrix = tuple[float, float, float, float, float, float]
"""(a, b, c, d, e, f): X = a x + b y + c, Y = d x + e y + f."""


@dataclass(frozen=True)
class Placement:
    """Block (or line) coordinates to page pixels: the affine `matrix`, then Y += A sin(2π X / L + φ)."""

    matrix: Matrix = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    amplitude: float = 0.0
    wavelength: float = 1.0
    phase: float = 0.0

    @staticmethod
    def rotation(degrees: float, centre: tuple[float, float], target: tuple[float, float]) -> "Placement":
        """Turn by `degrees` clockwise (on screen, y down) about `centre`, which lands on `target`."""
        cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        (x, y), (tx, ty) = centre, target
        return Placement((cos, -sin, tx - cos * x + sin * y, sin, cos, ty - sin * x - cos * y))

    def shifted(self, dx: float, dy: float) -> "Placement":
        """The same placement after first moving points by (dx, dy) in its own coordinates."""
        a, b, c, d, e, f = self.matrix
        return replace(self, matrix=(a, b, c + a * dx + b * dy, d, e, f + d * dx + e * dy))

    def wave(self, x: np.ndarray) -> np.ndarray:
        """The vertical displacement at page columns `x`."""
        if not self.amplitude:
            return np.zeros_like(x)
        return self.amplitude * np.sin(2 * math.pi * x / self.wavelength + self.phase)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Page positions of (N, 2) points."""
        a, b, c, d, e, f = self.matrix
        x, y = points[..., 0], points[..., 1]
        page_x = a * x + b * y + c
        return np.stack([page_x, d * x + e * y + f + self.wave(page_x)], axis=-1)

    def invert(self, page_x: np.ndarray, page_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The coordinates that land on the page positions (`page_x`, `page_y`)."""
        a, b, c, d, e, f = self.matrix
        y = page_y - self.wave(page_x) - f
        x = page_x - c
        determinant = a * e - b * d
        return (e * x - b * y) / determinant, (a * y - d * x) / determinant
