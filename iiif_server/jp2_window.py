"""A LevelOpener for one planned request on a JPEG 2000 file: the level the pipeline picks is decoded only
where the planned box lies, and placed (lazily) at its spot in the level for the pipeline to crop."""

import pyvips

from . import jpeg2000
from .pipeline import level_window
from .region import Box
from .sources import Jp2Image, Level, SourceImage


class Jp2Window:
    """The planned box of one JPEG 2000 image, decoded from whichever resolution level is asked for."""

    def __init__(self, source: Jp2Image, box: Box) -> None:
        self.source = source
        self.box = box

    def open(self, source: SourceImage, level: Level, shrink: int = 1) -> pyvips.Image:
        """The level, of which only the window the pipeline crops (`level_window`) is decoded."""
        x, y, width, height = level_window(self.source, self.box, level.width, level.height)
        pixels = jpeg2000.decode(self.source.path, self.source.header, level.reduce, (x, y, width, height))
        return pixels.embed(x, y, level.width, level.height, extend="copy")
