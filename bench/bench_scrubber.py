"""Microbenchmark of the secret scrubber's index: memory, registering values, masking a line.

``python bench/bench_scrubber.py [--values N]`` registers N random 40-character
values (20,000: the client IDs and secrets of 5,000 tenants x 2 environments),
then masks a typical 170-character result line and reports the traced memory
of the index.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
import tracemalloc

from stcheck.scrubber import SecretScrubber

LINE = (
    "GET /settings/v2/tenant/2001030/business-units answered HTTP 403: The application is"
    " not authorized for this tenant."
    " (traceId 00-7bc698af0cd3b8d9518cd7fb54c4cd43-3ed0b58bc0b8d07e-00)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=20_000)
    args = parser.parse_args()
    values = [secrets.token_hex(20) for _ in range(args.values)]

    adds = []
    for _ in range(3):
        started = time.perf_counter()
        scrubber = SecretScrubber()
        for value in values:
            scrubber.add(value)
        adds.append(time.perf_counter() - started)

    masks = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(1000):
            scrubber.mask(LINE)
        masks.append((time.perf_counter() - started) / 1000)

    tracemalloc.start()
    traced = SecretScrubber()
    for value in values:
        traced.add(value)
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    print(f"{args.values:,} values: index {size / 2**20:.1f} MiB traced")
    print(f"registering them: {statistics.median(adds):.2f} s (median of 3)")
    mask = statistics.median(masks) * 1e6
    print(f"masking a {len(LINE)}-character line: {mask:.0f} µs (median of 5)")


if __name__ == "__main__":
    main()
