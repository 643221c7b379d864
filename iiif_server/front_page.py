"""The server's front page for browsers (pure): one page of the public images, each a thumbnail through the
server's own IIIF URLs, its size, and links to its info.json and to what the extensions offer for it."""

import math
from dataclasses import dataclass
from html import escape

from .errors import IIIFError, bad_request

PAGE_SIZE = 50
THUMBNAIL_SIDE = 200


@dataclass(frozen=True)
class FrontPageImage:
    """One listed image: its identifier, IIIF service URL, size (None: unreadable) and (label, URL) links."""

    identifier: str
    service_url: str
    size: tuple[int, int] | None
    links: tuple[tuple[str, str], ...] = ()


def page_count(total: int) -> int:
    """How many pages `total` images fill (one, empty, when there are none)."""
    return max(1, math.ceil(total / PAGE_SIZE))


def parse_page(text: str | None, total: int) -> int:
    """The `?page=` number, 1 by default; 400 when it is not a positive whole number, 404 past the end."""
    if text is None:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise bad_request("page", f"{text!r} is not a page number (1, 2, …)")
    if int(text) > page_count(total):
        raise IIIFError(404, f"page {int(text)} is past the last page, {page_count(total)}", "page")
    return int(text)


def thumbnail_size(size: tuple[int, int] | None) -> str:
    """The IIIF size of a thumbnail: `!200,200`, or `max` for an image that small (3.0 does not upscale)."""
    return "max" if size and max(size) <= THUMBNAIL_SIDE else f"!{THUMBNAIL_SIDE},{THUMBNAIL_SIDE}"


def image_card(image: FrontPageImage) -> str:
    """One image's thumbnail, name, size and links."""
    info = escape(f"{image.service_url}/info.json")
    thumbnail = escape(f"{image.service_url}/full/{thumbnail_size(image.size)}/0/default.jpg")
    size = f"{image.size[0]} &times; {image.size[1]} px" if image.size else "unreadable"
    links = [f'<a href="{info}">info.json</a>']
    links += [f'<a href="{escape(url)}">{escape(label)}</a>' for label, url in image.links]
    name = escape(image.identifier)
    return (
        f'<figure><a href="{info}"><img src="{thumbnail}" alt="{name}" loading="lazy"></a>'
        f"<figcaption><b>{name}</b><br>{size}<br>{' · '.join(links)}</figcaption></figure>"
    )


def page_links(page: int, pages: int) -> str:
    """Previous and next links with the page number, when there is more than one page."""
    if pages == 1:
        return ""
    previous = f'<a href="?page={page - 1}" rel="prev">previous</a> ' if page > 1 else ""
    following = f' <a href="?page={page + 1}" rel="next">next</a>' if page < pages else ""
    return f"<nav>{previous}page {page} of {pages}{following}</nav>"


STYLE = (
    "body{font-family:sans-serif;margin:1em}figure{display:inline-block;vertical-align:top;width:220px;"
    "margin:.5em}img{max-width:200px;max-height:200px}figcaption{font-size:.85em;word-break:break-all}"
)


def front_page(images: list[FrontPageImage], page: int, pages: int, total: int) -> str:
    """The HTML page: the images of page `page` of `pages`, `total` images in all."""
    cards = "\n".join(image_card(image) for image in images) or "<p>No images.</p>"
    nav = page_links(page, pages)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>IIIF images</title>'
        f"<style>{STYLE}</style></head><body>\n<h1>IIIF images</h1>\n"
        f"<p>{total} images (IIIF Image API 3.0 at /iiif/3/, 2.1 at /iiif/2/).</p>\n"
        f"{nav}\n{cards}\n{nav}\n</body></html>\n"
    )
