"""Time and peak memory of ``stcheck validate`` on hostile manifests (issue 7).

    python bench/bench_hostile.py                 # write bench/out/hostile-*.yaml, measure, print
    python bench/bench_hostile.py --write-only    # only write the files
    python bench/bench_hostile.py --cases unknown-keys --format json

The files are valid YAML, far inside stcheck's input limits (20 MB, 1,000,000
lines), and full of errors — what a pull request could put in a manifest to
make the pre-commit hook or the CI gate slow or memory-hungry:

- ``unknown-keys``: 100,000 unknown keys in ``app`` (1.3 MB): one schema
  violation that names 100,000 keys, each of which would be located;
- ``erroneous-tenants``: 170,000 tenants (19 MB), each with a bad name, an
  unknown environment, a bad tenant ID and values that are not references;
- ``long-name``: one tenant whose name is 15 MB long, echoed in messages.

Each case runs ``stcheck validate --format FORMAT FILE`` once in a fresh
process; the table gives wall time, peak RSS (``wait4``'s ``ru_maxrss``), the
exit status and the bytes written to stdout. Figures go to
docs/performance.md by hand ("Hostile manifests").
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

HEADER = [
    "version: 1",
    "app:",
    "  name: hostile",
    "  app_key: env:ST_APP_KEY",
]


def unknown_keys(count: int = 100_000) -> str:
    """``app`` with ``count`` unknown keys, one per line."""
    lines = [*HEADER, *(f"  x{i:06d}: 1" for i in range(count)), "tenants: []"]
    return "\n".join(lines) + "\n"


def erroneous_tenants(count: int = 170_000) -> str:
    """``count`` tenants, every one of them wrong in several ways (about 112 bytes each)."""
    lines = [*HEADER, "tenants:"]
    for i in range(count):
        lines += [
            f"  - name: Bad_{i:06d}",
            "    environments:",
            f"      staging: {{tenant_id: '0{i}', client_id: plain, client_secret: 12}}",
        ]
    return "\n".join(lines) + "\n"


def long_name(length: int = 15 * 1024 * 1024) -> str:
    """One tenant with a ``length``-character name (and an unknown key beside it)."""
    lines = [
        *HEADER,
        "tenants:",
        f"  - name: {'a' * length}",
        "    colour: blue",
        "    environments:",
        "      integration:",
        "        tenant_id: 1234567",
        "        client_id: env:GP_INT_CLIENT_ID",
        "        client_secret: env:GP_INT_CLIENT_SECRET",
    ]
    return "\n".join(lines) + "\n"


CASES: dict[str, Callable[[], str]] = {
    "unknown-keys": unknown_keys,
    "erroneous-tenants": erroneous_tenants,
    "long-name": long_name,
}


def write(case: str) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"hostile-{case}.yaml"
    path.write_text(CASES[case](), encoding="utf-8")
    return path


def stcheck() -> str:
    here = Path(sys.executable).parent / "stcheck"
    if not here.exists():
        raise SystemExit(f"stcheck is not installed next to {sys.executable}")
    return str(here)


def measure(path: Path, fmt: str, timeout: float) -> tuple[float, int, int, int]:
    """(wall seconds, peak RSS in KiB, exit status, stdout bytes) of one validate run."""
    command = [stcheck(), "validate", "--format", fmt, str(path)]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT)
    assert process.stdout is not None
    size = 0
    deadline = started + timeout
    while chunk := process.stdout.read(1 << 16):
        size += len(chunk)
        if time.perf_counter() > deadline:
            process.kill()
            break
    process.stdout.close()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    return elapsed, int(usage.ru_maxrss), os.waitstatus_to_exitcode(status), size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated case names")
    parser.add_argument("--format", default="text", help="stdout format (default: text)")
    parser.add_argument("--write-only", action="store_true", help="only write the files")
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="give up on a run after this many seconds"
    )
    args = parser.parse_args(argv)
    cases = [case.strip() for case in args.cases.split(",") if case.strip()]
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases: {', '.join(unknown)} (choose from {', '.join(CASES)})")
    print(f"| case | file | wall | peak RSS | exit | stdout ({args.format}) |")
    print("|---|--:|--:|--:|--:|--:|")
    for case in cases:
        path = write(case)
        if args.write_only:
            print(f"| {case} | {path.stat().st_size / 1e6:.1f} MB | | | | |")
            continue
        seconds, rss, code, size = measure(path, args.format, args.timeout)
        print(
            f"| {case} | {path.stat().st_size / 1e6:.1f} MB | {seconds:,.1f} s"
            f" | {rss / 1024:,.0f} MiB | {code} | {size:,} bytes |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
