"""Paper for synthetic pages: tinted, textured, stained, with bleed-through, grain and scanner blur.

Everything here stays light (grey above about 140): the only dark pixels of a page are its text lines.
"""

import cv2
import numpy as np

_PAPERS = ((246, 242, 232), (240, 232, 214), (236, 228, 205), (244, 244, 240), (232, 226, 212))
_INKS = ((22, 20, 18), (30, 26, 40), (48, 34, 24), (16, 24, 48), (40, 40, 40))


def smooth_noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Noise of unit spread that varies over about `cell` pixels, float32 (height, width)."""
    rows, columns = max(2, round(height / cell) + 2), max(2, round(width / cell) + 2)
    coarse = rng.standard_normal((rows, columns), dtype=np.float32)
    return cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)


def paper(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A sheet of paper: tint, uneven tone, light stains; float32 (height, width, 3) in 0..255."""
    tint = np.asarray(_PAPERS[rng.integers(len(_PAPERS))], np.float32) + rng.uniform(-6, 4, 3)
    tone = smooth_noise(rng, height, width, width / 6) * rng.uniform(2, 6)
    tone += smooth_noise(rng, height, width, 12) * rng.uniform(0.5, 2.5)  # fibres
    for _ in range(rng.integers(0, 4)):  # stains: soft darker patches
        tone -= _blob(rng, height, width) * rng.uniform(8, 25)
    sheet = tint[None, None, :] + tone[:, :, None]
    return np.clip(sheet, 170, 255)


def _blob(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A soft round patch of 0..1 at a random place."""
    radius = rng.uniform(0.03, 0.12) * width
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    ys, xs = np.ogrid[:height, :width]
    distance = np.hypot((xs - cx) / radius, (ys - cy) / radius, dtype=np.float32)
    return np.clip(1 - distance, 0, 1) ** 2


def ink_colour(rng: np.random.Generator) -> np.ndarray:
    """A dark ink: black, blue-black or brown-black."""
    return np.asarray(_INKS[rng.integers(len(_INKS))], np.float32) + rng.uniform(0, 15, 3).astype(np.float32)


def bleed_through(sheet: np.ndarray, coverage: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The sheet with the text of the other side showing faintly through: the coverage mirrored,
    shifted and blurred, darkening the paper by at most a sixth."""
    ghost = np.roll(coverage[:, ::-1], (int(rng.integers(-40, 40)), int(rng.integers(-40, 40))), axis=(0, 1))
    ghost = cv2.GaussianBlur(ghost, (0, 0), rng.uniform(2.0, 4.0))
    return sheet * (1 - ghost * rng.uniform(0.05, 0.13))[:, :, None]


def figure(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A light picture-like patch (an engraving's tones) for a figure box, float32 (height, width, 3)."""
    shade = smooth_noise(rng, height, width, max(8.0, width / 5)) + 0.4 * smooth_noise(rng, height, width, 6)
    grey = 195 + 22 * np.tanh(shade)
    patch = np.repeat(grey[:, :, None], 3, axis=2)
    patch[:2], patch[-2:], patch[:, :2], patch[:, -2:] = 150, 150, 150, 150
    return patch


def scan(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """What a scanner makes of the page: a little blur and grain, as uint8."""
    page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.3, 0.7))
    grain = rng.standard_normal(page.shape[:2], dtype=np.float32) * rng.uniform(1.5, 5)
    return np.clip(page + grain[:, :, None] + 0.5, 0, 255).astype(np.uint8)
