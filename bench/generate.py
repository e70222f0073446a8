"""Generate a valid stcheck manifest with N tenants (both environments each).

python bench/generate.py 1000 > bench/out/m1000.yaml
python bench/generate.py 1000 100 > bench/out/m1000-nr.yaml   # every 100th tenant not ready
python bench/generate.py --generator simple 1000 > bench/out/s1000.yaml

Two generators (:data:`GENERATORS`): ``full`` (the default: an owner, dates and
go-live attestations, ~650 bytes a tenant) and ``simple`` (a name and two
environments of tenant ID and client references, ~300 bytes a tenant: the
"simple manifest" of issue 10's check-jsonschema comparison).
"""

from __future__ import annotations

import sys


def manifest(tenants: int, not_ready_every: int = 0) -> str:
    """``tenants`` tenants; with ``not_ready_every`` N, tenants N-1, 2N-1, ... lack an attestation
    (``app_approved``), so the readiness report finds them not ready."""
    lines = [
        "version: 1",
        "app:",
        "  name: bench-app",
        "  app_key: env:ST_APP_KEY",
        "  required_scopes: [tn.stt.businessunits:r]",
        "  probe: settings/business-units",
        "tenants:",
    ]
    for i in range(tenants):
        not_ready = bool(not_ready_every and i % not_ready_every == not_ready_every - 1)
        lines += tenant_lines(i, not_ready)
    return "\n".join(lines) + "\n"


def tenant_lines(i: int, not_ready: bool = False) -> list[str]:
    """The lines of tenant ``i`` as a manifest's ``tenants:`` list holds them (indented 2)."""
    slug = f"tenant-{i:05d}"
    var = f"T{i:05d}"
    lines = [
        f"  - name: {slug}",
        f"    owner: ops{i}@acme.example",
        "    environments:",
        "      integration:",
        f"        tenant_id: {1_000_000 + i}",
        f"        client_id: env:{var}_INT_CLIENT_ID",
        f"        client_secret: env:{var}_INT_CLIENT_SECRET",
        "      production:",
        f'        tenant_id: "{9_000_000 + i}"',
        f"        client_id: env:{var}_PROD_CLIENT_ID",
        f"        client_secret: env:{var}_PROD_CLIENT_SECRET",
        "        secret_created_on: 2026-11-02",
        "    go_live:",
        "      target_date: 2026-12-15",
        "      attestations:",
    ]
    if not not_ready:
        lines.append("        app_approved: {by: dana@acme.example, on: 2026-11-20}")
    lines += [
        "        tenant_admin_connected: {by: ops@tenant.example, on: 2026-11-22}",
        "        api_terms_accepted: {by: dana@acme.example, on: 2026-10-02}",
    ]
    return lines


def simple_manifest(tenants: int, not_ready_every: int = 0) -> str:
    """``tenants`` tenants of a name and two environments each: no owner, no dates, no go-live
    (``not_ready_every`` is accepted for :data:`GENERATORS`' sake: nothing here is attested)."""
    lines = [
        "version: 1",
        "app:",
        "  name: bench-app",
        "  app_key: env:ST_APP_KEY",
        "tenants:",
    ]
    for i in range(tenants):
        var = f"T{i:05d}"
        lines += [
            f"  - name: tenant-{i:05d}",
            "    environments:",
            "      integration:",
            f"        tenant_id: {1_000_000 + i}",
            f"        client_id: env:{var}_INT_CLIENT_ID",
            f"        client_secret: env:{var}_INT_CLIENT_SECRET",
            "      production:",
            f"        tenant_id: {9_000_000 + i}",
            f"        client_id: env:{var}_PROD_CLIENT_ID",
            f"        client_secret: env:{var}_PROD_CLIENT_SECRET",
        ]
    return "\n".join(lines) + "\n"


GENERATORS = {"full": manifest, "simple": simple_manifest}
"""Manifest generators by name: ``generate(tenants, not_ready_every)`` → YAML text."""


def tenants_file(start: int, count: int) -> str:
    """An included tenant file (``include:``): tenants ``start`` .. ``start + count - 1``."""
    lines = [line[2:] for i in range(start, start + count) for line in tenant_lines(i)]
    return "\n".join(lines) + "\n"


def root_manifest(include: list[str], tenants: int = 0) -> str:
    """A manifest that includes ``include`` (globs), with ``tenants`` tenants of its own."""
    text = manifest(tenants)
    if not tenants:
        text = text.replace("tenants:\n", "")
    return text + "include:\n" + "".join(f"  - {pattern}\n" for pattern in include)


def main(argv: list[str]) -> int:
    args = argv[1:]
    generate = manifest
    if args[:1] == ["--generator"]:
        generate = GENERATORS[args[1]]
        args = args[2:]
    every = int(args[1]) if len(args) > 1 else 0
    sys.stdout.write(generate(int(args[0]) if args else 10, every))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
