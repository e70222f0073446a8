"""Generate a valid stcheck manifest with N tenants (both environments each).

python bench/generate.py 1000 > bench/out/m1000.yaml
python bench/generate.py 1000 100 > bench/out/m1000-nr.yaml   # every 100th tenant not ready
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
        slug = f"tenant-{i:05d}"
        var = f"T{i:05d}"
        lines += [
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
        if not (not_ready_every and i % not_ready_every == not_ready_every - 1):
            lines.append("        app_approved: {by: dana@acme.example, on: 2026-11-20}")
        lines += [
            "        tenant_admin_connected: {by: ops@tenant.example, on: 2026-11-22}",
            "        api_terms_accepted: {by: dana@acme.example, on: 2026-10-02}",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    every = int(argv[2]) if len(argv) > 2 else 0
    sys.stdout.write(manifest(int(argv[1]) if len(argv) > 1 else 10, every))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
