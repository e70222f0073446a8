"""Helpers of the check tests: write a manifest, run ``validate`` and keep one check's findings."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def failures(path: Path, check: str) -> list[dict[str, object]]:
    result = run_cli("validate", "--format", "json", str(path))
    document = json.loads(result.out)
    return [r for r in document["results"] if r["check"] == check and r["status"] != "pass"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    return path
