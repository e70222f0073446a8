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
app: {{name: demo, app_key: "env:RS_APP_KEY"}}
tenants:
  - name: alpha
    environments:
      integration: {{tenant_id: 1, client_id: "env:RS_INT_ID", client_secret: "env:RS_INT_SECRET"}}
      production: {{tenant_id: 2, client_id: "env:RS_PROD_ID", client_secret: "env:RS_PROD_SECRET"}}
"""


@pytest.mark.parametrize(("production_secret", "fact"), [("q7-prod-value-9", "yes"), (None, "no")])
def test_the_production_credentials_result_states_whether_its_values_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, production_secret: str | None, fact: str
) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(MANIFEST.format())
    for name, value in {
        "RS_APP_KEY": "app-key-value-1",
        "RS_INT_ID": "int-id-value-1",
        "RS_INT_SECRET": "int-secret-value-1",
        "RS_PROD_ID": "prod-id-value-1",
        "RS_PROD_SECRET": production_secret or "int-secret-value-1",
    }.items():
        monkeypatch.setenv(name, value)
    report = run_checks(plugin_set(), str(manifest), command="check", resolve=True)
    by_env = {r.environment: r for r in report.results if r.check == "credentials" and r.tenant}
    assert by_env["production"].facts.get("values_distinct") == fact
    assert "values_distinct" not in by_env["integration"].facts
    assert "int-secret-value-1" not in repr(report.results)
