"""The unique check: names, tenant IDs and client references, through the real CLI."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import VALID

from .support import failures, write


def test_duplicate_tenant_name_points_at_the_second(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("name: rapid-hvac", "name: good-plumbing"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "duplicate_tenant"
    assert "first at line 7" in str(found["message"])
    assert found["location"]["line"] == 18  # type: ignore[index]


def test_duplicate_tenant_id_within_an_environment(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("tenant_id: 2345678", "tenant_id: 1234567"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "duplicate_tenant_id"
    assert found["environment"] == "integration"


def test_same_tenant_id_in_two_environments_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('tenant_id: "9876543"', "tenant_id: 2345678"))
    assert failures(path, "unique") == []


def test_client_reference_shared_by_two_tenants(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("env:RH_INT_CLIENT_ID", "env:GP_INT_CLIENT_ID"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "shared_client_reference"
    assert found["tenant"] == "rapid-hvac"
    assert "(at line 12)" in str(found["message"])


def test_enterprise_group_allows_a_shared_pair(tmp_path: Path) -> None:
    text = (
        VALID.replace("env:RH_INT_CLIENT_ID", "env:GP_INT_CLIENT_ID")
        .replace("env:RH_INT_CLIENT_SECRET", "env:GP_INT_CLIENT_SECRET")
        .replace(
            "        client_secret: env:GP_INT_CLIENT_SECRET\n",
            "        client_secret: env:GP_INT_CLIENT_SECRET\n        enterprise_group: west\n",
        )
    )
    assert failures(write(tmp_path, text), "unique") == []
    one_sided = text.replace("        enterprise_group: west\n", "", 1)
    assert len(failures(write(tmp_path, one_sided), "unique")) == 2


def test_same_reference_in_both_environments(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("env:GP_PROD_CLIENT_ID", "env:GP_INT_CLIENT_ID"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "same_reference_both_environments"
    assert found["environment"] == "production"
