"""The typed run state: one object per type per run, created once across threads, closed at the end;
and the credentials check's ``values_distinct`` fact that the go-live rules read."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from stcheck.api import plugin_set, run_checks
from stcheck.runstate import Registry


class Pool:
    made = 0

    def __init__(self) -> None:
        time.sleep(0.05)  # a slow factory: every thread asks while it runs
        Pool.made += 1
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_eight_threads_asking_at_once_get_one_object() -> None:
    Pool.made = 0
    registry = Registry()
    got: list[Pool] = []
    barrier = threading.Barrier(8)

    def ask() -> None:
        barrier.wait()
        got.append(registry.get(Pool, Pool))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Pool.made == 1
    assert len({id(pool) for pool in got}) == 1
    assert registry.peek(Pool) is got[0]


def test_a_factory_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="Pool"):
        Registry().get(Pool, dict)  # type: ignore[arg-type]


def test_close_runs_every_cleanup_newest_first_even_when_one_fails() -> None:
    registry = Registry()
    order: list[str] = []
    pool = registry.get(Pool, Pool)
    registry.on_close(lambda: order.append("first"))

    def broken() -> None:
        order.append("broken")
        raise RuntimeError("cleanup failed")

    registry.on_close(broken)
    registry.close()
    assert order == ["broken", "first"]
    assert pool.closed
    registry.close()  # idempotent: nothing runs twice
    assert order == ["broken", "first"]


def test_plugins_may_keep_their_own_objects_under_a_string() -> None:
    registry = Registry()
    assert registry.get_named("acme.cache", dict) is registry.get_named("acme.cache", list)


MANIFEST = """\
version: 1
app: {name: demo, app_key: "env:RS_APP_KEY"}
tenants:
  - name: alpha
    environments:
      integration: {tenant_id: 1, client_id: "env:RS_INT_ID", client_secret: "file:guess"}
      production: {tenant_id: 2, client_id: "env:RS_PROD_ID", client_secret: "env:DB_PASSWORD"}
"""


def test_no_output_says_whether_two_values_a_manifest_chose_are_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The red team's dictionary attack: a guess in a file beside the manifest as the
    integration secret, a runner variable as the production one. Right and wrong guesses
    give the same report (the integration pair has no token: nothing vouches for it)."""
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(MANIFEST)
    for name, value in {
        "RS_APP_KEY": "app-key-value-1",
        "RS_INT_ID": "int-id-value-1",
        "RS_PROD_ID": "prod-id-value-1",
        "DB_PASSWORD": "Summer2024",
    }.items():
        monkeypatch.setenv(name, value)
    reports = {}
    for guess in ("Winter2023", "Summer2024"):
        (tmp_path / "guess").write_text(guess)
        report = run_checks(
            plugin_set(),
            str(manifest),
            command="report",
            select={"credentials", "golive"},
            resolve=True,
        )
        items = [
            (item.id, item.state, item.detail)
            for tenant in report.readiness
            for item in tenant.items
        ]
        results = [(r.check, r.status, r.message, dict(r.facts)) for r in report.results]
        reports[guess] = (items, results)
    assert reports["Winter2023"] == reports["Summer2024"]
    assert "values_distinct" not in repr(reports)
