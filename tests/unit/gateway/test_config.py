"""Runtime settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import Settings


def test_defaults_use_the_embedded_database_in_var() -> None:
    settings = Settings.from_env({})
    assert settings.database_url is None
    assert settings.data_dir == Path("var")
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.worker_cpu_affinity == "off"  # pinning is for hosts that are the gateway's alone
    assert settings.worker_scheduling == "batch"


def test_environment_is_read_and_typed() -> None:
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://db.example/gw",
            "GATEWAY_DATA_DIR": "/srv/gateway",
            "GATEWAY_DB_POOL_MAX": "20",
            "GATEWAY_DB_ACQUIRE_TIMEOUT": "2.5",
            "GATEWAY_MIGRATE_ON_START": "false",
            "GATEWAY_WORKER_CPU_AFFINITY": "auto",
            "GATEWAY_WORKER_SCHEDULING": "normal",
        }
    )
    assert settings.database_url == "postgresql://db.example/gw"
    assert settings.data_dir == Path("/srv/gateway")
    assert settings.db_pool_max == 20
    assert settings.db_acquire_timeout == 2.5
    assert settings.migrate_on_start is False
    assert settings.worker_cpu_affinity == "auto"
    assert settings.worker_scheduling == "normal"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GATEWAY_DB_POOL_MAX", "lots"),
        ("GATEWAY_DB_POOL_MAX", "0"),
        ("GATEWAY_MAX_BODY_BYTES", "1"),
        ("GATEWAY_WORKER_CPU_AFFINITY", "always"),
        ("GATEWAY_WORKER_SCHEDULING", "fifo"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_explicit_overrides_win_over_the_environment() -> None:
    assert Settings.from_env({"GATEWAY_DATA_DIR": "a"}, data_dir=Path("b")).data_dir == Path("b")
