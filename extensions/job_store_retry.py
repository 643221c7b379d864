"""The job store as the workers use it: a call that finds Redis unreachable is tried again with backoff,
so a page being read survives a Redis outage and is stored once Redis is back. Requests use the plain
store instead and answer 503 at once."""

import logging
from collections.abc import Callable
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from .job_store import JobStore, StoreUnavailable

log = logging.getLogger(__name__)


class RetryingStore:
    """Every method of `store`, retried on `StoreUnavailable` with waits growing to `max_wait` seconds, for
    up to `give_up_after` seconds; then the last `StoreUnavailable` is raised."""

    def __init__(self, store: JobStore, give_up_after: float, max_wait: float) -> None:
        self.store = store
        self.name = store.name
        self._retrying = Retrying(
            retry=retry_if_exception_type(StoreUnavailable),
            wait=wait_exponential(multiplier=0.1, max=max_wait),
            stop=stop_after_delay(give_up_after),
            before_sleep=_log_retry,
            reraise=True,
        )

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        def retried(*args: Any, **kwargs: Any) -> Any:
            return self._retrying(method, *args, **kwargs)

        return retried if callable(method) else method


def _log_retry(state: RetryCallState) -> None:
    call: Callable[..., Any] | None = state.fn
    name = getattr(call, "__name__", "a job store call")
    log.warning("the job store is unreachable; %s tried %d times, trying again", name, state.attempt_number)
