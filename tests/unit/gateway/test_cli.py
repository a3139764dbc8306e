"""The command line: exit codes and messages for people, files for machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.schema import EXPORTED
from gateway.cli import main


def test_schemas_export_writes_one_schema_per_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schemas", "export", str(tmp_path / "schemas")]) == 0
    written = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert written == sorted(f"{m.__name__}.schema.json" for m in EXPORTED)
    schema = json.loads((tmp_path / "schemas" / "MicroCredential.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "learning_outcomes" in schema["$defs"]["MicroCredential"]["required"]
    assert json.loads(capsys.readouterr().out)["written"]


def test_bad_consortium_file_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[consortium]\nid = "xy"\nname = "X"\n[[members]]\nid = "uni-a.ac.uk"\n')
    assert main(["members", "sync", str(path)]) == 2
    err = capsys.readouterr().err
    assert "member 'uni-a.ac.uk' (members[0])" in err
    assert "missing required field `name`" in err


def test_bad_setting_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GATEWAY_DB_POOL_MAX", "many")
    assert main(["schemas", "export", "unused"]) == 2
    assert "GATEWAY_DB_POOL_MAX" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2


def test_consortium_file_with_an_unknown_framework_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[consortium]\nid = "xy"\nname = "X"\n[[members]]\nid = "uni-a.ac.uk"\nname = "A"\ncountry = "GB"\n'
        'framework = "atlantis"\nconnector = { id = "ooapi" }\n'
    )
    assert main(["members", "sync", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown framework 'atlantis'" in err
    assert "uk-fheq" in err
