"""The JPEG 2000 row of the peer comparison: first-time 256 px tiles of the same page as a JP2, served by
this project (glymur over OpenJPEG) and by IIPImage (Debian's build, OpenJPEG too).

    .venv/bin/python -m benchmarks.peers.jp2_workload benchmarks/.data     # writes page.jp2 (setup runs it)

`page.jp2` holds the pixels of `page.tif` (6000x8000, the document page of make_page.py): lossy (9/7
wavelet, 20:1), 1024 px tiles, 6 resolutions, RPCL progression, 256 px precincts. The workload is cold:
every URL is a distinct tile of OpenSeadragon's 256 px grid at some scale factor (1025 in all, shuffled
once, the same order for every server), and no server is sent the same URL twice, so neither the project's
encoded-answer cache nor IIPImage's tile cache can answer from memory. Each measured run takes the next
slice of that list; a client is a thread with one keep-alive connection. compare.py runs this after its
own workloads on the same servers and appends the table.
"""

import http.client
import math
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

JP2_NAME = "page.jp2"
WIDTH, HEIGHT, TILE = 6000, 8000, 256
WARM_UP = 8  # URLs each server answers before the measured runs (its first requests), never measured


def cold_tiles(width: int = WIDTH, height: int = HEIGHT, tile: int = TILE) -> list[str]:
    """Every tile of the `tile` px grid at every scale factor, as IIIF 3 URL tails, in one shuffled order."""
    tails = []
    factor = 1
    while True:
        span = tile * factor
        for y in range(0, height, span):
            for x in range(0, width, span):
                w, h = min(span, width - x), min(span, height - y)
                region = "full" if (w, h) == (width, height) else f"{x},{y},{w},{h}"
                tails.append(f"{region}/{math.ceil(w / factor)},/0/default.jpg")
        if max(width, height) <= span:
            break
        factor *= 2
    random.Random(2000).shuffle(tails)
    return tails


def jp2_base(name: str, base: str) -> str:
    """The base URL path of page.jp2 on a server whose page.tif is at `base`."""
    if name == "iipimage":
        return base.replace("page.tif", JP2_NAME)
    return base.replace("/page/", f"/{JP2_NAME}/")


def run_once(port: int, base: str, tails: list[str], clients: int) -> dict[str, float]:
    """Each URL requested once by `clients` threads; requests/s, p50 and p99 in ms, errors."""
    pending = iter(tails)
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                tail = next(pending, None)
            if tail is None:
                break
            started = time.perf_counter()
            try:
                connection.request("GET", base + tail)
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and body[:2] == b"\xff\xd8"
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                ok = False
            with lock:
                latencies.append(time.perf_counter() - started)
                errors[0] += not ok
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "rps": len(tails) / elapsed,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "errors": errors[0],
    }


def measure(
    servers: list[Any], clients_list: list[int], rounds: int
) -> dict[tuple[int, str], dict[str, float]]:
    """results[(clients, server name)]: medians over `rounds` cold runs, the servers alternating. Takes the
    project servers and IIPImage of compare.py (objects with `name`, `port` and `base`)."""
    runners = [s for s in servers if s.name == "iipimage" or s.name.startswith("project")]
    tails = cold_tiles()
    per_run = (len(tails) - WARM_UP) // (rounds * len(clients_list))
    for server in runners:
        if run_once(server.port, jp2_base(server.name, server.base), tails[:WARM_UP], 1)["errors"]:
            raise RuntimeError(f"{server.name} does not serve {JP2_NAME} (benchmarks/peers/setup writes it)")
    results: dict[tuple[int, str], dict[str, float]] = {}
    runs = 0
    for clients in clients_list:
        samples: dict[str, list[dict[str, float]]] = {s.name: [] for s in runners}
        for round_index in range(rounds):
            chunk = tails[WARM_UP + runs * per_run : WARM_UP + (runs + 1) * per_run]
            runs += 1
            shift = round_index % len(runners)
            for server in runners[shift:] + runners[:shift]:
                base = jp2_base(server.name, server.base)
                samples[server.name].append(run_once(server.port, base, chunk, clients))
                server.wait_quiet()
        for name, measured in samples.items():
            cell = {k: statistics.median(r[k] for r in measured) for k in ("rps", "p50", "p99")}
            cell["errors"] = sum(r["errors"] for r in measured)
            results[(clients, name)] = cell
            print(
                f"jp2cold   c={clients:<3} {name:11} {cell['rps']:9.1f} req/s  p50 {cell['p50']:8.1f} ms  "
                f"errors {cell['errors']:.0f}",
                flush=True,
            )
    return results


def markdown(results: dict[tuple[int, str], dict[str, float]], clients_list: list[int]) -> str:
    """The JP2 table: requests/s and p50/p99 per server, and each project server over IIPImage."""
    names = sorted({name for _, name in results}, key=lambda n: (n == "iipimage", n))
    project = [n for n in names if n != "iipimage"]
    lines = [
        "",
        f"JPEG 2000, first-time 256 px tiles (`{JP2_NAME}`, every URL distinct), req/s (p50 / p99 ms):",
        "",
        "| clients | " + " | ".join(names) + "".join(f" | {n} / iipimage" for n in project) + " |",
        "|---:|" + "---:|" * (len(names) + len(project)),
    ]
    for clients in clients_list:
        cells = [results.get((clients, n)) for n in names]
        text = [f"{c['rps']:.1f} ({c['p50']:.0f} / {c['p99']:.0f})" if c else "-" for c in cells]
        iip = results.get((clients, "iipimage"))
        ratios = [
            f"{results[(clients, n)]['rps'] / iip['rps']:.2f}x" if iip and (clients, n) in results else "-"
            for n in project
        ]
        lines.append(f"| {clients} | " + " | ".join(text + ratios) + " |")
    errors = sum(cell["errors"] for cell in results.values())
    lines += ["", f"Errors (not a 200 JPEG, or no answer) over the JPEG 2000 runs: {errors:.0f}."]
    return "\n".join(lines) + "\n"


def make_jp2(folder: Path) -> Path:
    """`page.jp2` beside `page.tif`, from its full-resolution pixels, written tile by tile (kept if there)."""
    import glymur
    import pyvips

    target = folder / JP2_NAME
    if target.exists():
        return target
    pixels = pyvips.Image.new_from_file(str(folder / "page.tif")).numpy()
    side = 1024
    partial = folder / f"partial-{JP2_NAME}"  # renamed when whole: an interrupted run leaves no page.jp2
    writer = glymur.Jp2k(
        str(partial),
        shape=pixels.shape,
        tilesize=(side, side),
        numres=6,
        irreversible=True,
        cratios=[20],
        prog="RPCL",
        psizes=[(256, 256)],
    )
    columns = -(-pixels.shape[1] // side)
    for index, tile in enumerate(writer.get_tilewriters()):
        row, column = divmod(index, columns)
        tile[:] = pixels[row * side : (row + 1) * side, column * side : (column + 1) * side]
    partial.rename(target)
    return target


if __name__ == "__main__":
    written = make_jp2(Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/.data"))
    print(f"{written}: {written.stat().st_size} bytes")
