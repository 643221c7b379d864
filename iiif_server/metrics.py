"""Prometheus metrics at `/metrics`: request latency and counts by kind, work in flight, model time, and the
caches' and upstreams' own counters read at scrape time (never counted twice).

With several gunicorn workers set `PROMETHEUS_MULTIPROC_DIR` to an empty folder: the metrics below are then
written there by every worker and summed by `MultiProcessCollector` (`gunicorn_server.py` clears the folder at
start and marks dead workers). The cache and upstream numbers live in each process and are read from the
worker that answers the scrape, labelled with its `pid`.
"""

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from .services import Services

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
BREAKER_STATES = ("closed", "half-open", "open")

REQUEST_SECONDS = Histogram(
    "iiif_request_duration_seconds",
    "Time from request to the end of the response, by kind of request",
    ["kind"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
REQUESTS = Counter(
    "iiif_requests", "Requests answered, by kind and HTTP status", ["kind", "status"], registry=None
)
IN_FLIGHT = Gauge(
    "iiif_in_flight_requests",
    "Requests being worked on now, by kind",
    ["kind"],
    registry=None,
    multiprocess_mode="livesum",
)
REJECTED = Counter(
    "iiif_rejected_requests",
    "Requests refused before or instead of the work: overload (503), timeout (504), rate limit (429)",
    ["reason"],
    registry=None,
)
MODEL_SECONDS = Histogram(
    "iiif_model_inference_seconds",
    "Time of one ONNX Runtime call, by model",
    ["model"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=None,
)
OWN_METRICS = (REQUEST_SECONDS, REQUESTS, IN_FLIGHT, REJECTED, MODEL_SECONDS)


class ServiceCollector(Collector):
    """Cache hits and misses (`Caches.stats`) and upstream requests and breakers (`UpstreamClient`)."""

    def __init__(self, services: "Services", per_process: bool) -> None:
        self.services = services
        self.pid = [str(os.getpid())] if per_process else []
        self.pid_label = ["pid"] if per_process else []

    def collect(self) -> Iterator[Metric]:
        caches = self.services.caches
        labels = ["cache", *self.pid_label]
        hits = CounterMetricFamily("iiif_cache_hits", "Cache lookups that found the entry", labels=labels)
        misses = CounterMetricFamily("iiif_cache_misses", "Cache lookups that did not", labels=labels)
        for cache in (caches.info, caches.regions, caches.predictions):
            hits.add_metric([cache.name, *self.pid], cache.hits)
            misses.add_metric([cache.name, *self.pid], cache.misses)
        yield from (hits, misses)
        labels = ["host", *self.pid_label]
        sent = CounterMetricFamily(
            "iiif_upstream_requests", "Requests sent to an upstream host", labels=labels
        )
        failures = GaugeMetricFamily(
            "iiif_upstream_consecutive_failures",
            "Failed upstream requests in a row (the breaker opens at IIIF_UPSTREAM_BREAKER_THRESHOLD)",
            labels=labels,
        )
        state = GaugeMetricFamily(
            "iiif_upstream_breaker_state", "1 for the breaker's current state", labels=[*labels, "state"]
        )
        client = self.services.upstream
        for host, count in sorted(client.requests.items()):
            breaker = client.breaker(host)
            sent.add_metric([host, *self.pid], count)
            failures.add_metric([host, *self.pid], breaker.failures)
            for name in BREAKER_STATES:
                state.add_metric([host, *self.pid, name], 1.0 if breaker.state == name else 0.0)
        yield from (sent, failures, state)


def scrape_registry(services: "Services", extra: Iterable[Collector] = ()) -> CollectorRegistry:
    """A registry for one scrape: this process's metrics, or every worker's in multi-process mode."""
    registry = CollectorRegistry(auto_describe=False)
    if services.settings.service.metrics_dir:
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
        registry.register(ServiceCollector(services, per_process=True))
    else:
        for collector in (*OWN_METRICS, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            registry.register(collector)
        registry.register(ServiceCollector(services, per_process=False))
    for collector in extra:
        registry.register(collector)
    return registry


async def metrics_endpoint(services: "Services", request: Request) -> Response:
    """`GET /metrics` in the Prometheus text format."""
    body = generate_latest(scrape_registry(services))
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
