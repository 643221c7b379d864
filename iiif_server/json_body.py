"""The one reader of JSON request bodies: whatever is not JSON is a 400, never a 500."""

import json
from typing import Any

from starlette.requests import Request

from .errors import IIIFError


def parse_json(data: bytes | str, parameter: str = "body", status: int = 400) -> Any:
    """The decoded value; IIIFError `status` when `data` is malformed, not UTF-8 or nested too deeply."""
    try:
        return json.loads(data)
    except RecursionError:
        raise IIIFError(status, f"the {parameter} is JSON nested too deeply", parameter) from None
    except ValueError as error:  # UnicodeDecodeError included
        raise IIIFError(status, f"the {parameter} is not JSON: {error}", parameter) from None


async def read_json(request: Request) -> Any:
    """The request's JSON body (already limited in size by BodyLimits)."""
    return parse_json(await request.body())
