"""The font families synthetic pages are set in: files of Debian font packages, found by path."""

from dataclasses import dataclass
from pathlib import Path

FONT_ROOT = Path("/usr/share/fonts")
PACKAGES = ("fonts-dejavu-core", "fonts-urw-base35", "fonts-liberation2")
"""The Debian packages whose files `FAMILIES` names (`scripts/setup` installs them)."""


@dataclass(frozen=True)
class FontFace:
    """One font file and the Pango description that selects it once the file is loaded."""

    path: Path
    description: str  # Pango "Family, Style" without the size, e.g. "Nimbus Roman, Italic"

    @property
    def name(self) -> str:
        """The file's stem, as pages record it (`synthetic.font`)."""
        return self.path.stem


@dataclass(frozen=True)
class FontFamily:
    """A typeface with its regular, bold and italic faces (the italic is the regular where there is none)."""

    name: str
    style: str  # serif, sans or mono
    regular: FontFace
    bold: FontFace
    italic: FontFace


_STYLES = ("Regular", "Bold", "Italic")
_TABLE = (  # family, style, file pattern under FONT_ROOT, the words for its regular, bold and italic file
    ("DejaVu Serif", "serif", "truetype/dejavu/DejaVuSerif{}.ttf", ("", "-Bold", None)),
    ("DejaVu Sans", "sans", "truetype/dejavu/DejaVuSans{}.ttf", ("", "-Bold", None)),
    ("DejaVu Sans Mono", "mono", "truetype/dejavu/DejaVuSansMono{}.ttf", ("", "-Bold", None)),
    ("Nimbus Roman", "serif", "opentype/urw-base35/NimbusRoman-{}.otf", _STYLES),
    ("C059", "serif", "opentype/urw-base35/C059-{}.otf", ("Roman", "Bold", "Italic")),
    ("P052", "serif", "opentype/urw-base35/P052-{}.otf", ("Roman", "Bold", "Italic")),
    ("URW Bookman", "serif", "opentype/urw-base35/URWBookman-{}.otf", ("Light", "Demi", "LightItalic")),
    ("Nimbus Sans", "sans", "opentype/urw-base35/NimbusSans-{}.otf", _STYLES),
    ("Nimbus Mono PS", "mono", "opentype/urw-base35/NimbusMonoPS-{}.otf", _STYLES),
    ("Liberation Serif", "serif", "truetype/liberation2/LiberationSerif-{}.ttf", _STYLES),
    ("Liberation Sans", "sans", "truetype/liberation2/LiberationSans-{}.ttf", _STYLES),
    ("Liberation Mono", "mono", "truetype/liberation2/LiberationMono-{}.ttf", _STYLES),
)


class FontsMissing(RuntimeError):
    """None of the font families is installed."""


def available_families(root: Path = FONT_ROOT) -> tuple[FontFamily, ...]:
    """The families whose files all exist under `root`, in the table's fixed order. Pango picks a face as
    "Family, Bold" or "Family, Italic" (fontconfig takes the nearest weight and slant); a family without an
    italic uses its regular face."""
    found = []
    for name, style, pattern, words in _TABLE:
        paths = [root / pattern.format(word if word is not None else words[0]) for word in words]
        if all(path.exists() for path in paths):
            pango = ("", "Bold", "Italic" if words[2] is not None else "")
            faces = (
                FontFace(path, f"{name}, {extra}".strip()) for path, extra in zip(paths, pango, strict=True)
            )
            found.append(FontFamily(name, style, *faces))
    if not found:
        raise FontsMissing(f"no font files of {', '.join(PACKAGES)} under {root}; apt-get install them")
    return tuple(found)
