"""The cold workloads of the peer comparison: first-time tiles of many pages, every URL distinct.

A viewer's first visit and a dataset builder never ask for a URL twice, so no answer cache helps. The pages
are `cold_pages.py`'s (real scans as 256 px and 512 px JPEG-tiled pyramids, `benchmarks/.data/cold`).
Workloads:

- `cold256`, `cold512`: every tile of every page on the stored grid (256 px tiles of the 256 px pyramid, 512
  px of the 512 px one) at every scale factor; the whole tiles inside a level are what this project sends as
  they are stored (`IIIF_TILE_PASSTHROUGH`), the edge tiles are decoded and encoded again.
- `cold256off`, `cold512off`: the same grids shifted by half a tile, so that every tile is cut from up to four
  stored tiles.
- `whole256`: only the whole tiles of `cold256` (a full 256 px square inside its level), each exactly a stored
  tile: what this project sends as it is stored.

Pages come in one shuffled order, each page's tiles level by level, row by row (as a viewer or a dataset
builder asks for them). Each server walks the list from its start (wrk, one thread, keep-alive
connections, each request the next URL) and every run continues where its last one stopped; a run is
shortened (to 1 s at least) when the server's best rate so far would use up the URLs the later runs need, so
no server is sent a URL twice unless the list runs out anyway (the table says so). `compare.py` runs these
after its own workloads, on the same servers (this project with and without its render cache, and IIPImage;
not the reference, at seconds a tile).
"""

import json
import math
import random
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

COLD_WORKLOADS = ("cold256", "whole256", "cold256off", "cold512", "cold512off")
GRIDS = {  # tile side, shifted by half a tile, whole tiles only
    "cold256": (256, False, False),
    "whole256": (256, False, True),
    "cold256off": (256, True, False),
    "cold512": (512, False, False),
    "cold512off": (512, True, False),
}
PEER = "iipimage"


def tile_tails(width: int, height: int, tile: int, shifted: bool, whole: bool = False) -> list[str]:
    """Region/size/rotation/quality.format of every tile of a `tile` px grid at every scale factor (shifted by
    half a tile when `shifted`; only the tiles a whole `tile` px square inside their level when `whole`)."""
    tails = []
    factor = 1
    while True:
        span = tile * factor
        start = span // 2 if shifted else 0
        for y in range(start, height, span):
            for x in range(start, width, span):
                w, h = min(span, width - x), min(span, height - y)
                inside = (x + span) // factor <= width // factor and (y + span) // factor <= height // factor
                if whole and not inside:
                    continue
                region = "full" if (x, y, w, h) == (0, 0, width, height) else f"{x},{y},{w},{h}"
                tails.append(f"{region}/{math.ceil(w / factor)},{math.ceil(h / factor)}/0/default.jpg")
        if max(width, height) <= span:
            break
        factor *= 2
    return tails


def page_base(server_name: str, base: str, folder: str, page: str) -> str:
    """The base URL path of a cold page on a server whose `page.tif` is at `base`."""
    if server_name == PEER:
        return base.replace("page.tif", f"cold/{folder}/{page}.tif")
    return base.replace("/page/", f"/cold%2F{folder}%2F{page}/")


def cold_paths(data: Path, workload: str, server_name: str, base: str) -> list[str]:
    """The workload's URL paths on one server, in the one order every server gets."""
    sizes: dict[str, list[int]] = json.loads((data / "cold" / "sizes.json").read_text())
    tile, shifted, whole = GRIDS[workload]
    pages = sorted(sizes)
    random.Random(17).shuffle(pages)
    return [
        page_base(server_name, base, f"tiles{tile}", page) + tail
        for page in pages
        for tail in tile_tails(*sizes[page], tile, shifted, whole)
    ]


Run = Callable[[Any, list[str], int, int], dict[str, Any]]


def run_seconds(seconds: int, urls_left: int, runs_left: int, rate: float) -> int:
    """Whole seconds of the next run: `seconds`, or fewer (at least 1) when the server, at the best rate it
    reached so far, would otherwise use up the URLs the runs after this one need (wrk takes whole seconds)."""
    if rate <= 0:
        return 1  # the warm-up run: its rate sizes the rest
    return max(1, min(seconds, int(urls_left / (runs_left * rate))))


def measure(
    servers: list[Any], data: Path, run: Run, clients_list: list[int], rounds: int, seconds: int
) -> dict:
    """results[(workload, clients, server)]: medians of req/s, p50 and p99 over the rounds, the errors, and
    whether the server's list ran out (URLs repeated). `run(server, paths, clients, seconds)` is one wrk run
    over `paths` in order from the first."""
    results: dict[tuple[str, int, str], dict[str, Any]] = {}
    runners = [s for s in servers if s.name.startswith("project") or s.name == PEER]
    for workload in COLD_WORKLOADS:
        paths = {s.name: cold_paths(data, workload, s.name, s.base) for s in runners}
        cursor = dict.fromkeys(paths, 0)
        for clients in clients_list:
            samples: dict[str, list[dict[str, Any]]] = {s.name: [] for s in runners}
            rate = dict.fromkeys(paths, 0.0)
            for round_index in range(rounds + 1):  # round 0 warms up (connections, first files opened)
                shift = round_index % len(runners)
                for server in runners[shift:] + runners[:shift]:
                    start = cursor[server.name]
                    left = len(paths[server.name]) - start
                    length = run_seconds(seconds, left, rounds + 1 - round_index, rate[server.name])
                    cpu = server.cpu_seconds()
                    result = run(server, paths[server.name][start:], clients, length)
                    result["cpu_ms"] = 1000 * (server.cpu_seconds() - cpu) / max(1, result["requests"])
                    rate[server.name] = max(rate[server.name], result["rps"])
                    cursor[server.name] = start + result["requests"] + clients
                    result["repeated"] = cursor[server.name] > len(paths[server.name])
                    if round_index:
                        samples[server.name].append(result)
            for name, runs in samples.items():
                cell = {k: statistics.median(r[k] for r in runs) for k in ("rps", "p50", "p99", "cpu_ms")}
                cell["errors"] = sum(r["errors"] for r in runs)
                cell["repeated"] = any(r["repeated"] for r in runs)
                cell["urls"] = len(paths[name])
                results[(workload, clients, name)] = cell
                repeated = "  REPEATED" if cell["repeated"] else ""
                print(
                    f"{workload:10} c={clients:<3} {name:18} {cell['rps']:9.1f} req/s  p50 {cell['p50']:7.1f}"
                    f" ms  p99 {cell['p99']:7.1f} ms  CPU {cell['cpu_ms']:.2f} ms/request"
                    f"  errors {cell['errors']}{repeated}",
                    flush=True,
                )
    return results


def markdown(results: dict, clients_list: list[int]) -> str:
    """The cold workloads' table: req/s of each server and this project over IIPImage."""
    servers = sorted({s for (_, _, s) in results}, key=lambda s: (s == PEER, s))
    project = [s for s in servers if s != PEER]
    lines = [
        "",
        "Cold workloads (`cold_workloads.py`): first-time tiles of many pages, every URL distinct, req/s",
        "(median of the rounds) and ratios over IIPImage; `*`: the URL list ran out (URLs repeated). CPU:",
        "the CPU time of the server's processes per request (ms), which other work on the machine changes",
        "far less than req/s; `CPU ratio`: IIPImage's CPU per request over this project's.",
        "",
        "| workload | clients | URLs | "
        + " | ".join(servers)
        + "".join(f" | {s} / {PEER}" for s in project)
        + " | CPU ms: "
        + ", ".join(servers)
        + "".join(f" | CPU ratio {s}" for s in project)
        + " | p50 / p99 ms |",
        "|---|---:|---:|" + "---:|" * (len(servers) + 2 * len(project) + 1) + "---|",
    ]
    for workload in COLD_WORKLOADS:
        for clients in clients_list:
            cells = [results.get((workload, clients, s)) for s in servers]
            if not any(cells):
                continue
            rps = [f"{c['rps']:.1f}{'*' if c['repeated'] else ''}" if c else "-" for c in cells]
            peer = results.get((workload, clients, PEER))
            ratios = [
                f"{results[(workload, clients, s)]['rps'] / peer['rps']:.2f}x"
                if peer and (workload, clients, s) in results
                else "-"
                for s in project
            ]
            cpu = ", ".join(f"{c['cpu_ms']:.2f}" if c else "-" for c in cells)
            cpu_ratios = [
                f"{peer['cpu_ms'] / results[(workload, clients, s)]['cpu_ms']:.2f}x"
                if peer and results.get((workload, clients, s), {}).get("cpu_ms")
                else "-"
                for s in project
            ]
            latency = ", ".join(f"{c['p50']:.1f} / {c['p99']:.1f}" for c in cells if c)
            urls = next(c["urls"] for c in cells if c)
            row = " | ".join([*rps, *ratios, cpu, *cpu_ratios])
            lines.append(f"| {workload} | {clients} | {urls} | {row} | {latency} |")
    return "\n".join(lines) + "\n"
