"""Light training augmentation of line images at the model's height: margins, width, brightness, contrast."""

import random

import cv2
import numpy as np

from ocr_onnx.recognition import scaled_to_height

MAX_MARGIN = 3  # pixels added on each side, at most
WIDTH_SCALE = (0.85, 1.15)
CONTRAST = (0.75, 1.25)
BRIGHTNESS = 25.0  # grey levels, either way


def jitter(pixels: np.ndarray, rng: random.Random) -> np.ndarray:
    """A variant of an (H, W, 3) uint8 line image, the same height: random margins (edge pixels repeated),
    then stretched or squeezed across, then brighter or darker and of more or less contrast."""
    height = pixels.shape[0]
    top, bottom, left, right = (rng.randint(0, MAX_MARGIN) for _ in range(4))
    padded = cv2.copyMakeBorder(pixels, top, bottom, left, right, cv2.BORDER_REPLICATE)
    scaled = scaled_to_height(padded, height)
    width = max(1, round(scaled.shape[1] * rng.uniform(*WIDTH_SCALE)))
    resized = cv2.resize(scaled, (width, height), interpolation=cv2.INTER_LINEAR)
    contrast, brightness = rng.uniform(*CONTRAST), rng.uniform(-BRIGHTNESS, BRIGHTNESS)
    shifted = (resized.astype(np.float32) - 128.0) * contrast + 128.0 + brightness
    return np.clip(shifted, 0, 255).astype(np.uint8)
