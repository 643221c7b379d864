"""Start the server with 2 gunicorn workers, run each locust scenario headless, write `results.md`.

Run through `benchmarks/load/run`, which sets up locust in `benchmarks/load/.venv` first:

    python -m benchmarks.load.drive --locust benchmarks/load/.venv/bin/locust [--duration 35s]

Everything stays on loopback: the server listens on a free 127.0.0.1 port and is stopped at the end.
"""

import argparse
import concurrent.futures
import csv
import datetime
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conformance.live_server import HOST, free_port, wait_until_answering

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SAMPLES = ROOT / "samples" / "generated"
OUT = HERE / ".out"
SHED = "503 shed"  # the name the locustfile gives 503 answers that carry Retry-After


@dataclass(frozen=True)
class Scenario:
    name: str
    user_class: str
    users: int
    what: str


SCENARIOS = [
    Scenario("tiles-10", "TileViewer", 10, "OpenSeadragon-like 512 px tiles of page1 (6000x8000 pyramid)"),
    Scenario("tiles-100", "TileViewer", 100, "the same with 100 users"),
    Scenario("masks-10", "MaskedRegions", 10, "page2 text lines as `poly:` and `pred:` masked PNGs"),
    Scenario("masks-100", "MaskedRegions", 100, "the same with 100 users"),
    Scenario("sidecars-10", "Sidecars", 10, "page2 `regions.json`, `ocr.json` (cached) and `pred:…/ocr`"),
    Scenario("sidecars-100", "Sidecars", 100, "the same with 100 users"),
]


@dataclass(frozen=True)
class Row:
    """One line of locust's `_stats.csv`."""

    name: str
    requests: int
    failures: int
    rps: float
    p50: str
    p95: str
    p99: str
    max: str

    @classmethod
    def read(cls, line: dict[str, str]) -> "Row":
        return cls(
            line["Name"],
            int(line["Request Count"]),
            int(line["Failure Count"]),
            float(line["Requests/s"]),
            line["50%"],
            line["95%"],
            line["99%"],
            str(round(float(line["Max Response Time"]))),
        )


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    rows: list[Row]  # per request name, then "Aggregated"
    errors: list[tuple[str, str, int]]  # name, error, occurrences
    server_alive: bool


@contextmanager
def redis_server() -> Iterator[str | None]:
    """Debian's redis-server on a free loopback port, no persistence, as the shared cache; None without it."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = free_port()
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"redis://{HOST}:{port}/0"
    finally:
        redis.terminate()
        redis.wait(timeout=10)


@contextmanager
def gunicorn_server(log_path: Path, redis_url: str | None, workers: int = 2) -> Iterator[tuple[str, int]]:
    """`iiif-server serve --workers N` (the deployment's command) on a free loopback port, log to a file."""
    port = free_port()
    command = [sys.executable, "-m", "iiif_server", "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers), "--images", str(SAMPLES)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IIIF_") and k != "REDIS_URL"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    with open(log_path, "w+b") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_until_answering(server, port, log, timeout=60)
            yield f"http://{HOST}:{port}", server.pid
        finally:
            server.terminate()  # gunicorn's arbiter stops its workers on SIGTERM
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def get(url: str, timeout: float = 120) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def warm_up(base: str) -> float:
    """Load the models and fill each worker's page cache; rounds of concurrent requests reach both workers."""
    urls = [
        f"{base}/iiif/3/page1/info.json",
        f"{base}/iiif/3/page1/0,0,512,512/512,512/0/default.jpg",
        f"{base}/iiif/3/page2/regions.json",
        f"{base}/iiif/3/page2/ocr.json",
        f"{base}/iiif/3/page2/pred:r0001/ocr",
    ]

    def timed(url: str) -> tuple[int, float]:
        start = time.monotonic()
        return get(url), time.monotonic() - start

    start = time.monotonic()
    # One by one first (concurrent cold requests of one page each run the models: 50 s instead of 2 s),
    # then pairs until a whole round is answered from the caches, so that the other worker is warm too.
    answers = [timed(url) for url in urls]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for _ in range(8):
            answers += pool.map(timed, [url for url in urls for _ in range(2)])
            if any(status != 200 for status, _ in answers):
                raise RuntimeError(f"warm-up answers: {answers}")
            if max(seconds for _, seconds in answers[-2 * len(urls) :]) < 1:
                break
    return time.monotonic() - start


def run_scenario(locust: str, base: str, scenario: Scenario, duration: str) -> Outcome:
    prefix = OUT / scenario.name
    command = [
        locust,
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "-u",
        str(scenario.users),
        "-r",
        str(scenario.users),
        "-t",
        duration,
        "--stop-timeout",
        "10",
        "--exit-code-on-error",
        "0",
        "--csv",
        str(prefix),
        "--host",
        base,
        scenario.user_class,
    ]
    print(f"== {scenario.name}: {scenario.users} users for {duration}", flush=True)
    subprocess.run(command, check=True, cwd=HERE, timeout=300)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        rows = [Row.read(line) for line in csv.DictReader(stats)]
    with open(f"{prefix}_failures.csv", newline="") as failures:
        errors = [(f["Name"], f["Error"], int(f["Occurrences"])) for f in csv.DictReader(failures)]
    alive = get(f"{base}/", timeout=30) == 200
    return Outcome(scenario, rows, errors, alive)


def server_trouble(log: str) -> list[str]:
    """Lines of the server log that say a worker died, timed out or raised."""
    pattern = re.compile(r"WORKER TIMEOUT|was sent SIGKILL|exited with code|\[CRITICAL\]|Traceback")
    return [line for line in log.splitlines() if pattern.search(line)]


def markdown(outcomes: list[Outcome], duration: str, warm: float, trouble: list[str], redis: bool) -> str:
    today = datetime.date.today().isoformat()
    cache = "a local redis-server as REDIS_URL" if redis else "no Redis"
    lines = [
        "# Load test results",
        "",
        f"`benchmarks/load/run` on {today}: {os.cpu_count()} cores ({platform.machine()}, Python "
        f"{platform.python_version()}); the server (`iiif-server serve --workers 2`, gunicorn with 2 uvicorn "
        f"workers, default settings, {cache}) and locust (one process, `FastHttpUser`, closed loop without "
        f"think time) share the cores. Each scenario ran {duration} after a warm-up of {warm:.1f} s "
        "(models loaded, page2's predictions cached in both workers). Times in ms.",
        "",
        "All answers (200s and shed 503s; the per-type table below gives the 200s' own times):",
        "",
        "| scenario | users | requests | req/s | 200 req/s | p50 | p95 | p99 | max | errors | 503 shed |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for outcome in outcomes:
        total = next(row for row in outcome.rows if row.name == "Aggregated")
        shed = sum(row.requests for row in outcome.rows if row.name == SHED)
        served = total.rps - sum(row.rps for row in outcome.rows if row.name == SHED)
        lines.append(
            f"| {outcome.scenario.name} | {outcome.scenario.users} | {total.requests} | {total.rps:.1f} | "
            f"{served:.1f} | "
            f"{total.p50} | {total.p95} | {total.p99} | {total.max} | {total.failures} | {shed} |"
        )
    lines += [
        "",
        "Per request type:",
        "",
        "| scenario | request | requests | req/s | p50 | p95 | p99 | max | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for outcome in outcomes:
        for row in outcome.rows:
            if row.name != "Aggregated":
                lines.append(
                    f"| {outcome.scenario.name} | {row.name} | {row.requests} | {row.rps:.1f} | {row.p50} | "
                    f"{row.p95} | {row.p99} | {row.max} | {row.failures} |"
                )
    lines += ["", "Scenarios:", ""]
    lines += [f"- `{o.scenario.name}` ({o.scenario.user_class}): {o.scenario.what}" for o in outcomes]
    errors = [(o.scenario.name, *error) for o in outcomes for error in o.errors]
    lines += ["", "Errors (an answer other than 200 or a 503 with `Retry-After`, or a bad body):", ""]
    lines += [f"- {s} `{name}`: {error} ({count}x)" for s, name, error, count in errors] or ["- none"]
    down = [o.scenario.name for o in outcomes if not o.server_alive]
    lines += [
        "",
        "Server after each scenario: "
        + (f"**not answering after {', '.join(down)}**" if down else "answering `/` every time")
        + "; worker crashes, timeouts or tracebacks in its log: "
        + (f"{len(trouble)} (first: `{trouble[0]}`)" if trouble else "none")
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--locust", type=Path, default=HERE / ".venv" / "bin" / "locust")
    parser.add_argument("--duration", default="35s", help="locust -t for each scenario (default 35s)")
    parser.add_argument("--only", help="comma-separated scenario names (default: all)")
    parser.add_argument("--output", default=str(HERE / "results.md"))
    args = parser.parse_args()
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only.split(",")]
    OUT.mkdir(exist_ok=True)
    if not (SAMPLES / "page1.tif").exists() or not (SAMPLES / "page2.jpg").exists():
        from iiif_server.samples import generate_samples

        generate_samples(SAMPLES)
    log_path = OUT / "server.log"
    outcomes = []
    with redis_server() as redis_url, gunicorn_server(log_path, redis_url) as (base, pid):
        print(f"server: {base} (gunicorn pid {pid}, 2 workers, REDIS_URL={redis_url})", flush=True)
        warm = warm_up(base)
        print(f"warm-up: {warm:.1f} s", flush=True)
        for scenario in scenarios:
            outcomes.append(run_scenario(str(args.locust.resolve()), base, scenario, args.duration))
    trouble = server_trouble(log_path.read_text(errors="replace"))
    report = markdown(outcomes, args.duration, warm, trouble, redis_url is not None)
    Path(args.output).write_text(report)
    print(report)
    failed = any(o.rows and o.rows[-1].failures for o in outcomes) or trouble
    sys.exit(1 if failed or not all(o.server_alive for o in outcomes) else 0)


if __name__ == "__main__":
    main()
