"""A text line rendered by libvips, as a recogniser takes its crops: dark ink on white, three bands."""

import numpy as np
import pyvips


def rendered_line(text: str) -> np.ndarray:
    """`text` at 300 dpi with a 12 px white margin, as a height x width x 3 uint8 array."""
    ink = pyvips.Image.text(text, dpi=300)
    ink = ink.embed(12, 12, ink.width + 24, ink.height + 24, extend="black")
    line = (255 - ink).cast("uchar")
    pixels = np.ndarray(buffer=line.write_to_memory(), dtype=np.uint8, shape=(line.height, line.width))
    return np.repeat(pixels[..., None], 3, axis=2)
