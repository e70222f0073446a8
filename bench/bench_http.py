"""CPU per request of stcheck's HTTP layer, one request at a time, against the fake.

    python bench/bench_http.py                      # this tree
    python bench/bench_http.py --anchor DIR         # and an older tree, side by side

The fake ServiceTitan runs in another process (its CPU is not counted), with no
added latency. This process sends ``--requests`` probes (``HttpClient.get_api``)
and token requests (``HttpClient.post_token``) over keep-alive connections and
reports the CPU time (``time.process_time``) per request, after 20 untimed ones.
A plain ``http.client`` GET with the same headers is the floor: TLS, one write
and one read, no pool. With ``--anchor DIR`` (an extracted tree: ``git archive
REV stcheck schemas | tar -x -C DIR``) the same is measured in a child that
imports that tree's ``stcheck``, started outside the repository (so the
working directory cannot shadow it) and checked to have run it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

SERVER = """
import json, time
from stcheck.testing.fake import FakeClient, FakeServiceTitan
fake = FakeServiceTitan().start()
client = fake.add_client(FakeClient("integration", tenants={1000001}))
print(json.dumps({"port": fake.port, "ca": fake.ca_bundle, "app_key": fake.app_key,
                  "id": client.client_id, "secret": client.client_secret,
                  "resolve": fake.resolve}), flush=True)
while True:
    time.sleep(3600)
"""
PATH = "/settings/v2/tenant/1000001/business-units"


def per_request(call: Callable[[], object], count: int) -> float:
    """Microseconds of this process's CPU per call, after 20 untimed calls."""
    for _ in range(20):
        call()
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count * 1e6


def measure(info: dict[str, object], count: int) -> dict[str, object]:
    """The figures of the stcheck importable here (and which one it was)."""
    import stcheck
    from stcheck.net.config import NetConfig
    from stcheck.net.http import HttpClient

    ca, port, app_key = str(info["ca"]), int(str(info["port"])), str(info["app_key"])
    context = ssl.create_default_context(cafile=ca)
    raw = http.client.HTTPSConnection("127.0.0.1", port, context=context)
    raw.sock = context.wrap_socket(
        socket.create_connection(("127.0.0.1", port)),
        server_hostname="api-integration.servicetitan.io",
    )
    client = HttpClient(NetConfig.from_options(ca_bundle=ca, resolve=info["resolve"], environ={}))
    form = {
        "grant_type": "client_credentials",
        "client_id": info["id"],
        "client_secret": info["secret"],
    }
    token = json.loads(client.post_token("integration", form).body)["access_token"]  # type: ignore[union-attr]
    headers = {"Authorization": f"Bearer {token}", "ST-App-Key": app_key}

    def floor() -> bytes:
        raw.request("GET", f"{PATH}?pageSize=1", headers={**headers, "Accept": "application/json"})
        return raw.getresponse().read()

    figures = {
        "package": str(Path(stcheck.__file__).parent),
        "http.client GET (floor)": per_request(floor, count),
        "HttpClient.get_api": per_request(
            lambda: client.get_api("integration", PATH, params={"pageSize": "1"}, headers=headers),
            count,
        ),
        "HttpClient.post_token": per_request(lambda: client.post_token("integration", form), count),
    }
    client.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests per figure")
    parser.add_argument("--anchor", metavar="DIR", help="also measure the stcheck tree in DIR")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # internal: the fake's details
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(json.loads(args.child), args.requests)))
        return 0
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        rows = {"this tree": measure(info, args.requests)}
        if args.anchor:
            anchor = Path(args.anchor).resolve()
            env = {**os.environ, "PYTHONPATH": str(anchor)}
            with tempfile.TemporaryDirectory() as outside:
                done = subprocess.run(
                    [
                        sys.executable,
                        str(Path(__file__).resolve()),
                        "--child",
                        json.dumps(info),
                        "--requests",
                        str(args.requests),
                    ],
                    env=env,
                    cwd=outside,
                    capture_output=True,
                    text=True,
                    check=True,
                )
            rows["anchor"] = json.loads(done.stdout)
            if Path(str(rows["anchor"]["package"])) != anchor / "stcheck":
                sys.exit(f"the anchor child ran {rows['anchor']['package']}, not {anchor}")
    finally:
        server.kill()
    names = [name for name in rows["this tree"] if name != "package"]
    print("| tree | " + " | ".join(names) + " |")
    print("|---|" + "--:|" * len(names))
    for label, figures in rows.items():
        cells = " | ".join(f"{float(str(figures[name])):.0f} µs" for name in names)
        print(f"| {label} | {cells} |")
    print("\nCPU time of this process per request (the fake runs in another process).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
