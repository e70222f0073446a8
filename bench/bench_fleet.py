"""Memory and time of ``stcheck validate`` over a fleet split into several files.

    python bench/bench_fleet.py                 # 50,000 tenants in 5 files, 3 runs each
    python bench/bench_fleet.py --tenants 20000 --files 4 --runs 5

Writes into ``bench/out/fleet-N/`` (gitignored) and measures, interleaved in
one run, each in a cold process (peak RSS from ``wait4``, wall time):

- ``anchor``: one manifest holding one file's share of the tenants;
- ``command line``: the fleet as FILES manifests of one app, all passed to one
  ``stcheck validate`` (unique across them);
- ``included``: one root manifest that includes FILES tenant files
  (``include: [tenants/*.stcheck.yaml]``).

Manifests are loaded, checked and released one at a time, so both split
layouts should peak near the anchor (the largest file), not at the sum. The
issue's target: 50,000 tenants in 5 files ≤ 150 MiB and ≤ 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence

from bench_validate import OUT, Timing, load_average, machine, timed, tool
from generate import manifest, root_manifest, tenants_file


def layouts(tenants: int, files: int) -> dict[str, list[str]]:
    """The commands of each layout, after writing its files."""
    base = OUT / f"fleet-{tenants}"
    share = tenants // files
    manifests = base / "manifests"
    included = base / "included"
    (included / "tenants").mkdir(parents=True, exist_ok=True)
    manifests.mkdir(parents=True, exist_ok=True)
    anchor = base / "anchor.yaml"
    anchor.write_text(manifest(share), encoding="utf-8")
    paths = []
    for index in range(files):
        text = root_manifest([], 0).split("include:")[0] + "tenants:\n"
        text += "".join(
            "  " + line + "\n" for line in tenants_file(index * share, share).split("\n") if line
        )
        path = manifests / f"part{index}.stcheck.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
        (included / "tenants" / f"part{index}.stcheck.yaml").write_text(
            tenants_file(index * share, share), encoding="utf-8"
        )
    root = included / "stcheck.yaml"
    root.write_text(root_manifest(["tenants/*.stcheck.yaml"]), encoding="utf-8")
    stcheck = tool("stcheck")
    return {
        f"anchor: 1 file, {share:,} tenants": [stcheck, "validate", str(anchor)],
        f"command line: {files} manifests, {tenants:,} tenants": [stcheck, "validate", *paths],
        f"included: 1 root + {files} files, {tenants:,} tenants": [stcheck, "validate", str(root)],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tenants", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    commands = layouts(args.tenants, args.files)
    timings = {label: Timing() for label in commands}
    load = load_average()
    for command in commands.values():
        timed(command, {0})  # warm-up, and the fleet must pass
    for index in range(args.runs):
        order = list(commands.items())
        for label, command in order if index % 2 == 0 else reversed(order):
            seconds, rss, _ = timed(command, {0})
            timings[label].seconds.append(seconds)
            timings[label].max_rss_kib.append(rss)
            print(f"  {label}: {seconds:.2f} s, {rss / 1024:,.0f} MiB", file=sys.stderr)
    print(f"`python bench/bench_fleet.py {' '.join(sys.argv[1:] if argv is None else argv)}`")
    print(f"on {machine()}; load average {load} / {load_average()}")
    print()
    print("| layout | wall (median) | peak RSS (max) |")
    print("|---|--:|--:|")
    for label, timing in timings.items():
        wall = statistics.median(timing.seconds)
        print(f"| {label} | {wall:.2f} s | {timing.rss / 1024:,.0f} MiB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
