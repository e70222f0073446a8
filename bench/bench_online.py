"""Online benchmark: ``stcheck check`` on 1,000 tenants x 2 environments against a loopback fake.

The fake ServiceTitan (real HTTPS on 127.0.0.1) answers every request after a
fixed latency (50 ms by default). Credentials reach the stcheck process the way
a CI runner hands them over: ~4,000 environment variables. stcheck runs as a
subprocess with ``--concurrency 32 --resolve ... --ca-bundle ...``.

Reported, as medians over ``--repeat`` runs:

* wall time of the subprocess vs the ideal, requests x latency / concurrency
  (2,000 token + 2,000 probe requests: 4,000 x 0.05 / 32 = 6.25 s);
* token requests the fake received, and distinct (environment, client ID)
  pairs among them (both must be 2,000: one request per pair);
* CPU time of the stcheck process and of the fake (this process): they share
  the machine's cores, so their sum bounds how close to the ideal a run can be;
* peak resident memory of the stcheck process (its own ``VmHWM``, written as it
  exits: ``ru_maxrss`` also counts the benchmark's memory at the fork);
* when the first request reached the fake (start-up and loading before it).

Targets (issue 10): wall within 1.2x of the ideal, peak RSS <= 150 MB at
5,000 tenants, one token request per (environment, client ID).

``--concurrency 8,32,64,128`` sweeps; ``--anchor DIR`` also runs the stcheck
package found in DIR (e.g. ``git archive main stcheck schemas | tar -x -C DIR``),
alternating with this tree run by run, so both see the same load;
``--profile PATH`` samples stcheck with py-spy (GIL holders only);
``--tracemalloc PATH`` writes its largest allocation sites when the run is done.

Usage: ``python bench/bench_online.py [--tenants 1000] [--repeat 3] [--concurrency 32]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import stcheck
from stcheck.testing.fake import HOSTS, FakeClient, FakeServiceTitan

ENVIRONMENTS = ("integration", "production")
DROP = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "PYTHONDONTWRITEBYTECODE",  # users' installs have bytecode caches (compiled before the runs)
)


MEASURED = """
import os, runpy, sys
def peak():
    try:
        with open("/proc/self/status") as status:
            kib = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
        package = os.path.dirname(sys.modules["stcheck"].__file__)
        with open({path!r}, "w") as out:
            out.write(kib + " " + package)
    except (OSError, StopIteration, KeyError):
        pass
exit_now = os._exit
def _exit(code):
    peak()
    exit_now(code)
os._exit = _exit
sys.argv[0] = "stcheck"
try:
    runpy.run_module("stcheck", run_name="__main__")
finally:
    peak()
"""
"""The child: stcheck, writing its own peak RSS (``VmHWM``) and the package it ran to a
file as it exits (a run of another tree than the one asked for is refused: ``python -c``
puts the working directory first on ``sys.path``, so a child started in the repository
ran the repository's stcheck whatever ``PYTHONPATH`` said — every ``--anchor`` run before
this check compared this tree with itself).

``ru_maxrss`` of a child is no measure on Linux: it also counts the memory of
the parent it was forked from (the benchmark, with the fake and its records).
"""

TRACED = """
import runpy, sys, tracemalloc
tracemalloc.start(12)
import stcheck.app
write_outputs = stcheck.app.write_outputs
def traced(*args, **kwargs):
    snapshot = tracemalloc.take_snapshot()
    current, peak = tracemalloc.get_traced_memory()
    with open({path!r}, "w") as out:
        out.write(f"traced when done {{current / 2**20:.1f}} MiB, peak {{peak / 2**20:.1f}} MiB\\n")
        for stat in snapshot.statistics("lineno")[:40]:
            out.write(f"{{stat.size / 2**20:8.2f}} MiB {{stat.count:9}} {{stat.traceback[0]}}\\n")
        out.write("\\nby traceback\\n")
        for stat in snapshot.statistics("traceback")[:30]:
            out.write(f"{{stat.size / 2**20:8.2f}} MiB {{stat.count:9}}\\n")
            for line in stat.traceback.format()[-16:]:
                out.write(f"    {{line}}\\n")
    return write_outputs(*args, **kwargs)
stcheck.app.write_outputs = traced
sys.argv[0] = "stcheck"
runpy.run_module("stcheck", run_name="__main__")
"""
"""The child under ``--tracemalloc``: stcheck with a snapshot taken when the run is done
(before the outputs are written, while every result and the run's state are alive)."""


def build(fake: FakeServiceTitan, tenants: int, directory: Path) -> tuple[Path, dict[str, str]]:
    """Register 2 x ``tenants`` clients; write the manifest; return it and the child's variables."""
    env = {"BENCH_ST_APP_KEY": fake.app_key}
    lines = [
        "version: 1",
        "app:",
        "  name: bench",
        "  app_key: env:BENCH_ST_APP_KEY",
        "  required_scopes: [tn.stt.businessunits:r]",
        "tenants:",
    ]
    for index in range(tenants):
        lines += [f"  - name: tenant-{index:05d}", "    environments:"]
        for env_name in ENVIRONMENTS:
            tenant_id = (1 if env_name == "integration" else 2) * 10_000_000 + index
            client = fake.add_client(FakeClient(env_name, tenants={tenant_id}))
            prefix = f"BENCH_T{index:05d}_{env_name[:4].upper()}"
            env[f"{prefix}_CLIENT_ID"] = client.client_id
            env[f"{prefix}_CLIENT_SECRET"] = client.client_secret
            lines += [
                f"      {env_name}:",
                f"        tenant_id: {tenant_id}",
                f"        client_id: env:{prefix}_CLIENT_ID",
                f"        client_secret: env:{prefix}_CLIENT_SECRET",
            ]
    manifest = directory / "stcheck.yaml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest, env


@dataclass
class Runs:
    """The runs of one tree at one concurrency."""

    label: str
    concurrency: int
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    fake_cpus: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    distinct: list[int] = field(default_factory=list)
    peak_kib: int = 0


def _concurrencies(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument(
        "--concurrency",
        type=_concurrencies,
        default=[32],
        help="one value, or a comma-separated sweep such as 8,32,64,128",
    )
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument(
        "--anchor",
        metavar="DIR",
        help="also run the stcheck package in DIR (a checkout or an extracted tree),"
        " alternating with this one run by run: side by side under the same load",
    )
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="run stcheck under py-spy and write collapsed stacks to PATH",
    )
    parser.add_argument(
        "--tracemalloc",
        metavar="PATH",
        help="trace stcheck's allocations; write the largest holders when done to PATH",
    )
    args = parser.parse_args(argv)

    entries = args.tenants * len(ENVIRONMENTS)
    requests = 2 * entries
    trees: list[tuple[str, str | None]] = [("this tree", None)]
    if args.anchor:
        trees.insert(0, ("anchor", str(Path(args.anchor).resolve())))
    table: list[Runs] = []
    with tempfile.TemporaryDirectory(prefix="stcheck-bench-") as tmp, FakeServiceTitan() as fake:
        manifest, secrets = build(fake, args.tenants, Path(tmp))
        child_env = {k: v for k, v in os.environ.items() if k not in DROP}
        child_env.update(secrets)
        child_env["NO_PROXY"] = child_env["no_proxy"] = ",".join(HOSTS)
        print(
            f"tenants: {args.tenants} x 2 environments = {entries} entries;"
            f" environment variables in the child: {len(child_env)}"
            f" ({len(secrets)} credentials); fake latency: {args.latency * 1000:g} ms"
        )
        for _, path in trees:  # untimed: every tree's bytecode cached, as in an install
            package = Path(path or Path(stcheck.__file__).parent.parent) / "stcheck"
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", str(package)], env=child_env, check=True
            )
        for concurrency in args.concurrency:
            ideal = requests * args.latency / concurrency
            print(
                f"\ncommand: stcheck check stcheck.yaml --concurrency {concurrency}"
                f" --timeout {args.timeout:g} --ca-bundle CA.pem"
                + "".join(f" --resolve {h}:PORT:127.0.0.1" for h in HOSTS)
            )
            print(
                f"ideal: {requests} requests x {args.latency:g} s / {concurrency} = {ideal:.2f} s"
            )
            by_tree = {label: Runs(label, concurrency) for label, _ in trees}
            for run in range(1, args.repeat + 1):
                for label, path in trees:
                    env = dict(child_env)
                    if path is not None:
                        env["PYTHONPATH"] = path
                    hwm = Path(tmp) / "peak-kib"
                    hwm.unlink(missing_ok=True)
                    command = _command(args, manifest, concurrency, fake.cli_args(), hwm)
                    name = f"run {run} ({label})"
                    expected = Path(path or Path(stcheck.__file__).parent.parent) / "stcheck"
                    _run_once(fake, args, command, env, by_tree[label], name, ideal, hwm)
                    _check_package(hwm, expected, name)
            table.extend(by_tree.values())
    print()
    print("| tree | concurrency | median wall | x ideal | stcheck CPU | fake CPU | peak RSS |")
    print("|---|--:|--:|--:|--:|--:|--:|")
    ok = True
    for runs in table:
        ideal = requests * args.latency / runs.concurrency
        wall = statistics.median(runs.walls)
        print(
            f"| {runs.label} | {runs.concurrency} | {wall:.2f} s | {wall / ideal:.2f} |"
            f" {statistics.median(runs.cpus):.2f} s | {statistics.median(runs.fake_cpus):.2f} s |"
            f" {runs.peak_kib / 1024:.0f} MB |"
        )
        if runs.label == "this tree":
            ok = ok and wall <= 1.2 * ideal and runs.peak_kib / 1024 <= 150
            ok = ok and all(t == entries for t in runs.tokens + runs.distinct)
    print(
        f"\ntargets (this tree): wall <= 1.2x ideal, peak RSS <= 150 MB, {entries} token"
        f" requests for {entries} distinct (environment, client ID) pairs:"
        f" {'met' if ok else 'MISSED'}"
    )
    return 0 if ok else 1


def _command(
    args: argparse.Namespace, manifest: Path, concurrency: int, cli_args: list[str], hwm: Path
) -> list[str]:
    launcher = ["-c", MEASURED.format(path=str(hwm))]
    if args.tracemalloc:
        launcher = ["-c", TRACED.format(path=str(Path(args.tracemalloc).resolve()))]
    command = [
        sys.executable,
        *launcher,
        "check",
        str(manifest),
        "--concurrency",
        str(concurrency),
        "--timeout",
        str(args.timeout),
        *cli_args,
    ]
    if args.profile:
        command = [
            "py-spy",
            "record",
            "--format",
            "raw",
            "--rate",
            "200",
            "--gil",
            "--nonblocking",
            "-o",
            args.profile,
            "--",
            *command,
        ]
    return command


def _run_once(
    fake: FakeServiceTitan,
    args: argparse.Namespace,
    command: list[str],
    env: dict[str, str],
    runs: Runs,
    name: str,
    ideal: float,
    hwm: Path,
) -> None:
    """One stcheck run against the fake: its figures appended to ``runs``, and printed."""
    fake.reset_records()
    fake.latency = args.latency
    fake_before = time.process_time()
    started_at = time.monotonic()  # the fake's clock
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # Not in the repository: ``python -c`` puts the working directory first on sys.path.
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True, cwd=hwm.parent)
        # wait4, not wait: this child's own CPU time and peak RSS (the anchor's are apart)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    fake_cpu = time.process_time() - fake_before
    fake.latency = 0.0
    cpu = usage.ru_utime + usage.ru_stime
    # The child's own peak (VmHWM); ru_maxrss, which also counts this process's
    # memory at the fork, only when the child could not say (under --profile).
    peak = int(hwm.read_text().split()[0]) if hwm.exists() else usage.ru_maxrss
    arrivals = [r.time for r in fake.received]
    phases = (
        f" first request after {min(arrivals) - started_at:.2f} s,"
        f" last {started_at + wall - max(arrivals):.2f} s before the exit;"
        if arrivals
        else ""
    )
    tokens = fake.token_requests()
    distinct = {(r.environment, r.client_id) for r in tokens}
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    runs.walls.append(wall)
    runs.cpus.append(cpu)
    runs.fake_cpus.append(fake_cpu)
    runs.tokens.append(len(tokens))
    runs.distinct.append(len(distinct))
    runs.peak_kib = max(runs.peak_kib, peak)
    print(
        f"{name}: exit {proc.returncode}, {wall:.2f} s ({wall / ideal:.2f}x ideal,"
        f" stcheck CPU {cpu:.2f} s, fake CPU {fake_cpu:.2f} s, peak RSS {peak / 1024:.0f} MB),"
        f" {len(tokens)} token requests for {len(distinct)} (environment, client ID)"
        f" pairs, {len(fake.api_requests())} probes;{phases} {summary}"
    )
    if proc.returncode != 0:
        print(stdout[-2000:], stderr[-2000:], file=sys.stderr)


def _check_package(hwm: Path, expected: Path, name: str) -> None:
    """Stop when the child ran another stcheck than the tree it was meant to run."""
    if not hwm.exists():  # under --profile or --tracemalloc the child does not say
        return
    parts = hwm.read_text().split(maxsplit=1)
    ran = Path(parts[1]).resolve() if len(parts) > 1 else None
    if ran != expected.resolve():
        sys.exit(f"{name}: the child ran stcheck from {ran}, not from {expected}")


if __name__ == "__main__":
    sys.exit(main())
