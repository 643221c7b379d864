"""Where every route gets its images: one interface over the image folder, upstream IIIF image services and
a job's uploaded pages. A route describes an image once and hands the SourceImage down; the pixels of each
planned request come from the source that described it."""

from typing import Protocol

from starlette.concurrency import run_in_threadpool

from .jp2_window import Jp2Window
from .plan import ImagePlan
from .remote_source import RemoteImage, RemoteSource
from .sources import FolderSource, Jp2Image, LevelOpener, SourceImage


class PageSource(Protocol):
    """Images by identifier: what each is (size, levels, version), then the pixels a planned request reads."""

    async def describe(self, identifier: str) -> SourceImage:
        """The image an identifier names (IIIFError 400/404/413/501/502/503 when it cannot be read)."""
        ...

    async def pixels(self, source: SourceImage, image_plan: ImagePlan) -> LevelOpener:
        """What the pipeline reads the planned pixels of `source` from (fetched first when remote)."""
        ...


class FolderPages:
    """A folder of image files as a PageSource: the served images, or the pages uploaded to a job."""

    def __init__(self, folder: FolderSource) -> None:
        self.folder = folder

    async def describe(self, identifier: str) -> SourceImage:
        """The file's description, read off the event loop."""
        return await run_in_threadpool(self.folder.describe, identifier)

    async def pixels(self, source: SourceImage, image_plan: ImagePlan) -> LevelOpener:
        """The folder's cached level handles: the file is read as the pipeline needs it."""
        return self.opener(source, image_plan)

    def opener(
        self, source: SourceImage, image_plan: ImagePlan, levels: LevelOpener | None = None
    ) -> LevelOpener:
        """A JPEG 2000's planned window, decoded when opened; for other files `levels` (by default the
        folder's cached handles)."""
        if isinstance(source, Jp2Image):
            return Jp2Window(source, image_plan.region.box)
        return levels or self.folder


class ImageSources:
    """The app's PageSource: an identifier that names an upstream image service (`prefix:id` or a URL) is read
    there, through the one upstream client and its caches; any other from the image folder."""

    def __init__(self, folder: FolderSource, remote: RemoteSource) -> None:
        self.folder = folder
        self.local = FolderPages(folder)
        self.remote = remote

    def is_remote(self, identifier: str) -> bool:
        """Whether the identifier names an upstream image service (400 for control characters in one)."""
        return self.remote.service_url(identifier) is not None

    async def describe(self, identifier: str) -> SourceImage:
        """The folder's image, or the upstream image described by its info.json."""
        service = self.remote.service_url(identifier)
        if service is not None:
            return await self.remote.describe(service)
        return await self.local.describe(identifier)

    async def pixels(self, source: SourceImage, image_plan: ImagePlan) -> LevelOpener:
        """The folder's handles, or (upstream images) the planned box fetched at the size the plan needs."""
        if isinstance(source, RemoteImage):
            return await self.remote.pixels(source, image_plan)
        return await self.local.pixels(source, image_plan)
