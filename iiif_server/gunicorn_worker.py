"""The gunicorn worker class: uvicorn's, speaking HTTP through the server's header-deadline protocol."""

from typing import Any

from uvicorn_worker import UvicornWorker

from .http_protocol import header_deadline_protocol


class IIIFUvicornWorker(UvicornWorker):
    """A uvicorn worker whose connections must send each request's headers within `IIIF_HEADER_TIMEOUT`, as
    the settings of its `GunicornServer` say."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config.http = header_deadline_protocol(self.app.settings.service.header_timeout)
