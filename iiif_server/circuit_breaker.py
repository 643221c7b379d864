"""A circuit breaker per upstream host: a dead upstream is refused at once instead of tying up workers."""

import time
from collections.abc import Callable


class CircuitOpen(Exception):
    """The breaker refuses calls for `retry_after` more seconds."""

    def __init__(self, failures: int, retry_after: float) -> None:
        super().__init__(failures, retry_after)
        self.failures = failures
        self.retry_after = retry_after


class CircuitBreaker:
    """Closed until `threshold` consecutive failures; then open for `cooldown` seconds, after which one probe
    call is let through (half-open): its success closes the breaker, its failure opens it again."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = max(1, threshold)
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probe_since: float | None = None

    @property
    def state(self) -> str:
        """`closed`, `open` or `half-open`."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.cooldown else "open"

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go out now (a stuck probe is replaced after a cool-down)."""
        if self.opened_at is None:
            return
        now = self.clock()
        waited = now - self.opened_at
        probing = self.probe_since is not None and now - self.probe_since < self.cooldown
        if waited < self.cooldown or probing:
            raise CircuitOpen(self.failures, max(0.0, self.cooldown - waited))
        self.probe_since = now

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = self.probe_since = None

    def failed(self) -> None:
        self.failures += 1
        self.probe_since = None
        if self.failures >= self.threshold:
            self.opened_at = self.clock()
