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
* peak resident memory of the stcheck process (``RUSAGE_CHILDREN`` max RSS).

``--profile PATH`` samples stcheck with py-spy (GIL holders only);
``--tracemalloc PATH`` writes its largest allocation sites when the run is done.

Usage: ``python bench/bench_online.py [--tenants 1000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="run stcheck under py-spy and write collapsed stacks to PATH",
    )
    parser.add_argument(
        "--tracemalloc",
        metavar="PATH",
        help="trace stcheck's allocations; write the largest holders at exit to PATH",
    )
    args = parser.parse_args(argv)

    entries = args.tenants * len(ENVIRONMENTS)
    requests = 2 * entries
    ideal = requests * args.latency / args.concurrency
    walls: list[float] = []
    token_counts: list[int] = []
    distinct_counts: list[int] = []
    summaries: list[str] = []
    cpus: list[float] = []
    fake_cpus: list[float] = []
    with tempfile.TemporaryDirectory(prefix="stcheck-bench-") as tmp, FakeServiceTitan() as fake:
        manifest, secrets = build(fake, args.tenants, Path(tmp))
        child_env = {k: v for k, v in os.environ.items() if k not in DROP}
        child_env.update(secrets)
        child_env["NO_PROXY"] = child_env["no_proxy"] = ",".join(HOSTS)
        launcher = ["-m", "stcheck"]
        if args.tracemalloc:
            launcher = ["-c", TRACED.format(path=str(Path(args.tracemalloc).resolve()))]
        command = [
            sys.executable,
            *launcher,
            "check",
            str(manifest),
            "--concurrency",
            str(args.concurrency),
            "--timeout",
            str(args.timeout),
            *fake.cli_args(),
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
        shown = (
            f"stcheck check stcheck.yaml --concurrency {args.concurrency}"
            f" --timeout {args.timeout:g} --ca-bundle CA.pem"
            + "".join(f" --resolve {h}:PORT:127.0.0.1" for h in HOSTS)
        )
        print(
            f"tenants: {args.tenants} x 2 environments = {entries} entries;"
            f" environment variables in the child: {len(child_env)}"
            f" ({len(secrets)} credentials)"
        )
        print(f"command: {shown}")
        print(
            f"fake latency: {args.latency * 1000:g} ms; ideal: {requests} requests x"
            f" {args.latency:g} s / {args.concurrency} = {ideal:.2f} s"
        )
        for run in range(1, args.repeat + 1):
            fake.reset_records()
            fake.latency = args.latency
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            fake_before = time.process_time()
            started_at = time.monotonic()  # the fake's clock
            started = time.perf_counter()
            proc = subprocess.run(
                command, env=child_env, capture_output=True, text=True, check=False
            )
            wall = time.perf_counter() - started
            fake_cpus.append(time.process_time() - fake_before)
            arrivals = [r.time for r in fake.received]
            phases = (
                f" first request after {min(arrivals) - started_at:.2f} s,"
                f" last {started_at + wall - max(arrivals):.2f} s before the exit;"
                if arrivals
                else ""
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            cpus.append(cpu)
            fake.latency = 0.0
            tokens = fake.token_requests()
            distinct = {(r.environment, r.client_id) for r in tokens}
            summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
            walls.append(wall)
            token_counts.append(len(tokens))
            distinct_counts.append(len(distinct))
            summaries.append(summary)
            print(
                f"run {run}: exit {proc.returncode}, {wall:.2f} s ({wall / ideal:.2f}x ideal,"
                f" stcheck CPU {cpu:.2f} s, fake CPU {fake_cpus[-1]:.2f} s),"
                f" {len(tokens)} token requests for {len(distinct)} (environment, client ID)"
                f" pairs, {len(fake.api_requests())} probes;{phases} {summary}"
            )
            if proc.returncode != 0:
                print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    wall = statistics.median(walls)
    print()
    print(
        f"median wall time: {wall:.2f} s = {wall / ideal:.2f}x ideal ({ideal:.2f} s);"
        f" target <= 1.5x"
    )
    print(
        f"token requests (median): {statistics.median(token_counts):g};"
        f" distinct (environment, client ID): {statistics.median(distinct_counts):g};"
        f" expected {entries}"
    )
    print(
        f"CPU time of the stcheck process (median): {statistics.median(cpus):.2f} s;"
        f" of the fake (this process, median): {statistics.median(fake_cpus):.2f} s;"
        f" per request: {1000 * statistics.median(cpus) / requests:.2f} ms (stcheck)"
    )
    print(
        f"peak RSS of the stcheck process: {peak_kib / 1024:.0f} MB (max over runs);"
        " target < 200 MB"
    )
    ok = (
        wall <= 1.5 * ideal
        and all(t == entries for t in token_counts)
        and all(d == entries for d in distinct_counts)
        and peak_kib / 1024 < 200
    )
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
