"""This project side by side with IIPImage and the IIIF reference implementation, over HTTP on loopback.

    benchmarks/run                       # set-up, then this script with its defaults
    benchmarks/.venv/bin/python benchmarks/peers/compare.py --rounds 3 --duration 2 --clients 1,8,32

Servers, all started and stopped here, each on a free port of 127.0.0.1:

- `project-w2`: `iiif-server serve --workers 2` (gunicorn, 2 uvicorn workers: the core count), default
  settings (JPEG quality 85), reading `page.tif`; `project-w2-nocache`: the same with the encoded-image
  cache off (`IIIF_RENDER_CACHE_MB=0`: every answer decoded, cut, scaled and encoded again); `project-w1`
  (not in the default list): `--workers 1` (uvicorn).
- `iipimage`: Debian's `iipsrv.fcgi` behind lighttpd's FastCGI module, 2 processes (`max-procs`),
  JPEG_QUALITY=85, other settings left at their defaults, reading the same `page.tif`.
- `reference`: PyPI `iiif` 1.0.10 (`iiif_testserver.py`, its Flask server, PIL manipulator, API 3.0),
  one process, reading `ref/page.jpg` (the same pixels as one JPEG; PIL cannot read the tiled pyramid).

Workloads (all JPEG): `tiles256` and `tiles512`, the tile URLs OpenSeadragon asks for in a pan/zoom
session (written to `results/osd_tiles_256.txt` / `_512.txt`); `full1000` (`full/!1000,1000`); `rect`
(a 5000x1200 block at a quarter of its size); `mask` (the same block as a `poly:` quadrilateral, this
project only); `info` (info.json). The load generator is wrk (one thread, keep-alive connections,
`--latency`), cycling through each workload's URL list. For every workload and client count, each server
gets a warm-up run, then `--rounds` runs of `--duration` seconds, the servers' order rotating from round
to round; after each run the driver waits until the server's processes are idle again (requests wrk gave
up on are finished) before the next one starts. The reference, at hundreds of ms a request, gets longer
runs with many clients (clients / 3 + 2 seconds) and, at 32 clients, one round. The tables give medians
over the rounds. `--workloads` picks these workloads; the cold ones (`cold_workloads.py`: first-time tiles
of many pages, every URL distinct) run after them at `--cold-clients`.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import cold_workloads  # beside this script: first-time tiles of many pages, every URL distinct
import jp2_workload  # beside this script: the JPEG 2000 row (first-time tiles of page.jp2)

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
WIDTH, HEIGHT = 6000, 8000
VIEWPORT = (1280, 800)

RECT = "500,1580,5000,1200"
POLY = "poly:500,1700,5500,1580,5500,2660,500,2780"  # bounding box: RECT
WORKLOADS = ("tiles256", "tiles512", "full1000", "rect", "mask", "info")
PROJECT = re.compile(r"project-w(?P<workers>\d+)(?P<nocache>-nocache)?")
LABELS = {
    "project-w2": "this project, 2 workers",
    "project-w2-nocache": "this project, 2 workers, no render cache",
    "project-w1": "this project, 1 worker",
    "iipimage": "IIPImage 1.1 (lighttpd, 2 procs)",
    "reference": "iiif 1.0.10 reference (Flask, PIL)",
}

WRK_SCRIPT = r"""
local paths = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  if args[2] == "ordered" then i = 0 else i = math.random(#paths) - 1 end
end
function request()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def osd_tiles(tile: int) -> list[str]:
    """Region/size/rotation/quality.format of the tiles OpenSeadragon fetches in a pan/zoom session.

    The session: the home view (whole page), then zooming in on the text block at the top left,
    level by level, panning across and down at full resolution, and zooming back out. Each view asks
    for every tile of its level that intersects the viewport (OpenSeadragon's IIIF tile source with
    `tiles: [{width: tile, scaleFactors}]`, version 3 URLs); tiles already fetched are not asked again.
    """
    factors = [1]
    while max(WIDTH, HEIGHT) / factors[-1] > tile:
        factors.append(factors[-1] * 2)
    top = factors[-1]
    views: list[tuple[float, float, int]] = [(WIDTH / 2, HEIGHT / 2, top), (WIDTH / 2, HEIGHT / 2, top // 2)]
    views += [(WIDTH / 2, HEIGHT / 2, s) for s in (8, 4) if s < top // 2]
    views += [(1800, 1600, 2), (1300, 1000, 1)]
    views += [(1300 + 900 * k, 1000, 1) for k in range(1, 5)]  # pan right along the lines
    views += [(4900, 1000 + 600 * k, 1) for k in range(1, 4)]  # and down
    views += [(3500, 3500, 2), (3000, 5000, 4), (WIDTH / 2, HEIGHT / 2, top // 2)]
    seen: dict[str, None] = {}
    for cx, cy, s in views:
        span = tile * s
        x0, x1 = max(0, cx - VIEWPORT[0] * s / 2), min(WIDTH, cx + VIEWPORT[0] * s / 2)
        y0, y1 = max(0, cy - VIEWPORT[1] * s / 2), min(HEIGHT, cy + VIEWPORT[1] * s / 2)
        for row in range(int(y0 // span), math.ceil(y1 / span)):
            for col in range(int(x0 // span), math.ceil(x1 / span)):
                x, y = col * span, row * span
                w, h = min(span, WIDTH - x), min(span, HEIGHT - y)
                region = "full" if (x, y, w, h) == (0, 0, WIDTH, HEIGHT) else f"{x},{y},{w},{h}"
                seen[f"{region}/{math.ceil(w / s)},{math.ceil(h / s)}/0/default.jpg"] = None
    return list(seen)


def workload_paths(results: Path) -> dict[str, list[str]]:
    """Each workload's URL tails (after the image's base URL); the tile lists are also written out."""
    paths = {
        "tiles256": osd_tiles(256),
        "tiles512": osd_tiles(512),
        "full1000": ["full/!1000,1000/0/default.jpg"],
        "rect": [f"{RECT}/1250,/0/default.jpg"],
        "mask": [f"{POLY}/1250,/0/default.jpg"],
        "info": ["info.json"],
    }
    for size in (256, 512):
        (results / f"osd_tiles_{size}.txt").write_text("\n".join(paths[f"tiles{size}"]) + "\n")
    return paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """One server under test: how to start it and the base path of the test image."""

    name: str
    command: list[str]
    port: int
    base: str
    env: dict[str, str] = field(default_factory=dict)
    workloads: tuple[str, ...] = WORKLOADS
    slow: bool = False  # hundreds of ms a request: runs last long enough for every client to finish some
    process: subprocess.Popen | None = None

    def start(self, logs: Path) -> None:
        log = open(logs / f"{self.name}.log", "wb")  # noqa: SIM115 - the server writes to it until it stops
        self.process = subprocess.Popen(
            self.command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            cwd=ROOT,
            start_new_session=True,  # its own process group: workers and FastCGI children stop with it
        )

    def wait_ready(self, timeout: float = 60) -> None:
        url = f"http://127.0.0.1:{self.port}{self.base}info.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {timeout} s ({url})")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (its process group), from /proc."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if self.process and int(fields[2]) == self.process.pid:  # pgrp
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / os.sysconf("SC_CLK_TCK")

    def peak_memory_mb(self) -> float:
        """The largest peak resident memory (VmHWM) of one of the server's processes so far, in MB."""
        peak = 0
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                pid = int(status.parent.name)
                if not self.process or os.getpgid(pid) != self.process.pid:
                    continue
                fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            except (OSError, ValueError):
                continue
            peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]))
        return peak / 1024

    def wait_quiet(self, timeout: float = 120) -> None:
        """Wait until the server has finished what the last run left it (requests wrk gave up on)."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.cpu_seconds()
            if now - before < 0.03:
                return
            before = now

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def lighttpd_config(folder: Path, port: int, procs: int) -> Path:
    """A lighttpd configuration that spawns `procs` iipsrv FastCGI processes on a Unix socket."""
    config = folder / "lighttpd.conf"
    config.write_text(
        f"""server.modules = ("mod_fastcgi")
server.document-root = "{folder}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{folder}/lighttpd-error.log"
server.max-connections = 1024
fastcgi.server = ("/fcgi-bin/iipsrv.fcgi" => ((
  "socket" => "{folder}/iipsrv.sock",
  "bin-path" => "/usr/lib/iipimage-server/iipsrv.fcgi",
  "max-procs" => {procs},
  "bin-environment" => ("JPEG_QUALITY" => "85", "VERBOSITY" => "0"),
  "check-local" => "disable"
)))
"""
    )
    return config


def make_servers(data: Path, scratch: Path, names: list[str], iip_procs: int) -> list[Server]:
    project = str(ROOT / ".venv" / "bin" / "iiif-server")
    servers = []
    for name in names:
        port = free_port()
        if match := PROJECT.fullmatch(name):
            command = [project, "serve", "--host", "127.0.0.1", "--port", str(port), "--images", str(data)]
            command += ["--workers", match["workers"]]
            if match["nocache"]:  # every image rendered and encoded again; info.json is the same
                env, workloads = {"IIIF_RENDER_CACHE_MB": "0"}, tuple(w for w in WORKLOADS if w != "info")
                servers.append(Server(name, command, port, "/iiif/3/page/", env, workloads))
            else:
                servers.append(Server(name, command, port, "/iiif/3/page/"))
        elif name == "iipimage":
            config = lighttpd_config(scratch, port, iip_procs)
            base = f"/fcgi-bin/iipsrv.fcgi?IIIF={data / 'page.tif'}/"
            servers.append(
                Server(name, ["lighttpd", "-D", "-f", str(config)], port, base, workloads=_without_mask())
            )
        elif name == "reference":
            script = str(BENCH / ".venv" / "bin" / "iiif_testserver.py")
            command = [sys.executable, script, "--manipulators", "pil", "--api-versions", "3.0"]
            command += [
                "--image-dir",
                str(data / "ref"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--quiet",
            ]
            servers.append(
                Server(name, command, port, "/3.0_pil/page/", workloads=_without_mask(), slow=True)
            )
        else:
            raise SystemExit(f"unknown server {name}")
    return servers


def _without_mask() -> tuple[str, ...]:
    return tuple(w for w in WORKLOADS if w != "mask")


def wrk(
    server: Server,
    tails: list[str],
    clients: int,
    seconds: int,
    scratch: Path,
    base: str | None = None,
    ordered: bool = False,
) -> dict:
    """One wrk run over `base` (the server's image by default) + each tail, from a random tail on or, when
    `ordered`, from the first; requests/s, p50 and p99 latency in ms, and the error count."""
    url_file = scratch / f"urls-{server.name}.txt"
    prefix = server.base if base is None else base
    url_file.write_text("".join(f"{prefix}{tail}\n" for tail in tails))
    script = scratch / "urls.lua"
    if not script.exists():
        script.write_text(WRK_SCRIPT)
    command = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "60s", "--latency"]
    command += ["-s", str(script), f"http://127.0.0.1:{server.port}", "--", str(url_file)]
    command += ["ordered"] if ordered else []
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120).stdout
    server.wait_quiet()
    line = next((text for text in output.splitlines() if text.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary for {server.name}:\n{output}")
    raw = json.loads(line[len("WRKJSON ") :])
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50": raw["p50_us"] / 1000,
        "p99": raw["p99_us"] / 1000,
        "errors": raw["errors"],
        "requests": raw["requests"],
    }


def cold_run(scratch: Path, server: Server, paths: list[str], clients: int, seconds: int) -> dict:
    """One wrk run of a cold workload: whole URL paths, requested in order from the first."""
    return wrk(server, paths, clients, seconds, scratch, base="", ordered=True)


def check_responses(servers: list[Server], paths: dict[str, list[str]]) -> None:
    """Every server answers 200 with an image (or JSON) for the first URLs of every workload."""
    for server in servers:
        for workload in server.workloads:
            for tail in paths[workload][:3]:
                url = f"http://127.0.0.1:{server.port}{server.base}{tail}"
                with urllib.request.urlopen(url, timeout=60) as response:
                    body = response.read()
                    if response.status != 200 or len(body) < 100:
                        raise RuntimeError(f"{server.name}: {url} gave {response.status}, {len(body)} bytes")


def measure(servers, paths, clients_list, rounds, seconds, warmup, scratch, workloads=WORKLOADS) -> dict:
    """results[(workload, clients, server)] = medians of requests/s, p50, p99 over the rounds."""
    results: dict[tuple[str, int, str], dict] = {}
    for clients in clients_list:
        for workload in workloads:
            runners = [s for s in servers if workload in s.workloads]
            samples: dict[str, list[dict]] = {s.name: [] for s in runners}
            for server in runners:
                wrk(server, paths[workload], clients, warmup, scratch)
            for round_index in range(rounds):
                shift = round_index % len(runners)
                for server in runners[shift:] + runners[:shift]:
                    if server.slow and round_index >= max(1, rounds * 8 // clients):
                        continue  # the slow reference: fewer, longer rounds with many clients
                    length = max(seconds, clients // 3 + 2) if server.slow else seconds
                    samples[server.name].append(wrk(server, paths[workload], clients, length, scratch))
            for name, runs in samples.items():
                median = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99")}
                median["errors"] = sum(r["errors"] for r in runs)
                results[(workload, clients, name)] = median
                print(
                    f"{workload:9} c={clients:<3} {name:11} {median['rps']:9.1f} req/s  "
                    f"p50 {median['p50']:8.1f} ms  p99 {median['p99']:8.1f} ms  errors {median['errors']}",
                    flush=True,
                )
    return results


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def markdown(results: dict, servers: list[str], clients_list: list[int], meta: str) -> str:
    """The throughput table with ratios, the latency table and the mask/rectangle table."""
    project = [s for s in servers if s.startswith("project")]
    pairs = [(s, peer) for peer in ("iipimage", "reference") for s in project]

    def get(w, c, s, key="rps"):
        cell = results.get((w, c, s))
        return cell[key] if cell else None

    head = "| workload | clients | " + " | ".join(f"{s} req/s" for s in servers)
    head += "".join(f" | {s} / {peer}" for s, peer in pairs) + " |"
    lines = [meta, "", "Requests per second (median of the rounds) and ratios:", "", head]
    lines.append("|---|---:|" + "---:|" * (len(servers) + len(pairs)))
    for w in WORKLOADS:
        for c in clients_list:
            cells = [f"{get(w, c, s):.1f}" if get(w, c, s) else "-" for s in servers]
            ratios = [ratio(get(w, c, s), get(w, c, peer)) for s, peer in pairs]
            lines.append(f"| {w} | {c} | " + " | ".join(cells + ratios) + " |")
    lines += ["", "Latency p50 / p99 in ms (medians of the rounds):", ""]
    lines.append("| workload | clients | " + " | ".join(servers) + " |")
    lines.append("|---|---:|" + "---:|" * len(servers))
    for w in WORKLOADS:
        for c in clients_list:
            cells = [
                f"{get(w, c, s, 'p50'):.1f} / {get(w, c, s, 'p99'):.1f}" if get(w, c, s) else "-"
                for s in servers
            ]
            lines.append(f"| {w} | {c} | " + " | ".join(cells) + " |")
    if project:
        lines += [
            "",
            "Masked (`poly:`) over rectangle, same box, as time per request (rect req/s ÷ mask req/s):",
            "",
        ]
        lines.append("| server | " + " | ".join(f"{c} clients" for c in clients_list) + " |")
        lines.append("|---|" + "---:|" * len(clients_list))
        for s in project:
            cells = [ratio(get("rect", c, s), get("mask", c, s)) for c in clients_list]
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
    errors = sum(cell["errors"] for cell in results.values())
    lines += ["", f"Errors (socket errors, timeouts, non-2xx) over all runs: {errors}."]
    return "\n".join(lines) + "\n"


def plot(results: dict, servers: list[str], clients_list: list[int], path: Path, meta: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    for ax, workload in zip(axes.flat, WORKLOADS, strict=False):
        for server in servers:
            ys = [results.get((workload, c, server), {}).get("rps") for c in clients_list]
            if any(ys):
                xs = [c for c, y in zip(clients_list, ys, strict=False) if y]
                ax.plot(xs, [y for y in ys if y], marker="o", label=LABELS.get(server, server))
        ax.set_title(workload)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(clients_list, [str(c) for c in clients_list])
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel("requests/s")
        ax.grid(True, which="both", alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.suptitle(meta, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=BENCH / ".data")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--servers", default="project-w2,project-w2-nocache,iipimage,reference")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=2, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up per server and cell")
    parser.add_argument("--iip-procs", type=int, default=2)
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="the repeated-URL workloads to run")
    parser.add_argument(
        "--cold-clients", default="8", help="client counts of the cold workloads ('none': skip them)"
    )
    parser.add_argument("--cold-pages", type=int, default=100, help="pages of the cold workloads")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: run benchmarks/peers/setup")
    names = [n.strip() for n in args.servers.split(",") if n.strip()]
    clients_list = [int(c) for c in args.clients.split(",")]
    workloads = tuple(w for w in WORKLOADS if w in args.workloads.split(","))
    cold_clients = [] if args.cold_clients == "none" else [int(c) for c in args.cold_clients.split(",")]
    if cold_clients:  # the pages are written with the project's own Python (pyvips)
        make = [str(ROOT / ".venv" / "bin" / "python"), "-m", "benchmarks.peers.cold_pages", str(args.data)]
        subprocess.run([*make, "--count", str(args.cold_pages)], cwd=ROOT, check=True)
    args.results.mkdir(parents=True, exist_ok=True)
    paths = workload_paths(args.results)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="iiif-peers-") as tmp:
        scratch = Path(tmp)
        servers = make_servers(args.data.resolve(), scratch, names, args.iip_procs)
        try:
            for server in servers:
                server.start(scratch)
            for server in servers:
                server.wait_ready()
            check_responses(servers, paths)
            results = measure(
                servers, paths, clients_list, args.rounds, args.duration, args.warmup, scratch, workloads
            )
            has_jp2 = (args.data / jp2_workload.JP2_NAME).exists()
            jp2 = jp2_workload.measure(servers, clients_list, args.rounds) if has_jp2 else {}
            cold = (
                cold_workloads.measure(
                    servers, args.data, partial(cold_run, scratch), cold_clients, args.rounds, 3
                )
                if cold_clients
                else {}
            )
            peaks = {server.name: server.peak_memory_mb() for server in servers}
        except Exception:
            for server in servers:
                log = scratch / f"{server.name}.log"
                if log.exists():
                    print(f"--- {server.name} log (tail) ---\n{log.read_text()[-2000:]}", file=sys.stderr)
            raise
        finally:
            for server in servers:
                server.stop()
    today = datetime.date.today().isoformat()
    meta = (
        f"{today}, {machine()}; wrk -t1, {args.rounds} rounds x {args.duration:g} s after a "
        f"{args.warmup:g} s warm-up, servers alternating; {len(paths['tiles256'])} + "
        f"{len(paths['tiles512'])} OpenSeadragon tile URLs; run took {time.monotonic() - started:.0f} s"
    )
    table = markdown(results, names, clients_list, meta)
    table += jp2_workload.markdown(jp2, clients_list) if jp2 else ""
    table += cold_workloads.markdown(cold, cold_clients) if cold else ""
    table += "\nPeak resident memory of the largest process of each server (VmHWM, after every run): "
    table += ", ".join(f"{name} {mb:.0f} MB" for name, mb in peaks.items()) + ".\n"
    (args.results / "peers.md").write_text(table)
    (args.results / "peers.json").write_text(
        json.dumps(
            [{"workload": w, "clients": c, "server": s, **v} for (w, c, s), v in (results | cold).items()],
            indent=1,
        )
    )
    plot(results, names, clients_list, args.results / "peers.png", meta)
    print("\n" + table)
    print(f"wrote {args.results / 'peers.md'}, {args.results / 'peers.png'}, {args.results / 'peers.json'}")


if __name__ == "__main__":
    main()
