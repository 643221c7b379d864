"""The gunicorn worker class: uvicorn's, speaking HTTP through the server's header-deadline protocol."""

from typing import Any, ClassVar

from uvicorn_worker import UvicornWorker

from .http_protocol import header_deadline_protocol
from .service_settings import ServiceSettings


class IIIFUvicornWorker(UvicornWorker):
    """A uvicorn worker whose connections must send each request's headers within `IIIF_HEADER_TIMEOUT`."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        "loop": "auto",
        "http": header_deadline_protocol(ServiceSettings.from_env().header_timeout),
    }
