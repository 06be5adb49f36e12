"""Config loading, masking and error reporting (real files, real environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from veriloop.config import load_settings
from veriloop.errors import ConfigError


def test_defaults_have_offline_backend() -> None:
    s = load_settings()
    assert s.default_backend == "offline"
    assert s.backends["offline"].kind == "offline"


def test_project_file_and_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "veriloop.toml").write_text(
        '[backends.gpt]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\nmodel = "m"\n'
        'api_key_env = "MY_KEY"\nmax_concurrency = 3\nprice_in_per_mtok = 2.5\n'
    )
    monkeypatch.setenv("VERILOOP_DEFAULT_BACKEND", "gpt")
    s = load_settings()
    assert s.default_backend == "gpt"
    assert s.backend("gpt").max_concurrency == 3
    assert s.backend("gpt").price_in_per_mtok == 2.5
    assert s.config_files == [str(tmp_path / "veriloop.toml")]


def test_user_config_dir_is_second_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERILOOP_DATA_DIR")
    user = tmp_path / "xdg" / "veriloop"
    user.mkdir(parents=True)
    (user / "veriloop.toml").write_text('data_dir = "/tmp/vl-user"\n')
    assert load_settings().data_dir == "/tmp/vl-user"
    (tmp_path / "veriloop.toml").write_text('data_dir = "/tmp/vl-project"\n')
    assert load_settings().data_dir == "/tmp/vl-project"


def test_environment_beats_files(tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text('data_dir = "/tmp/vl-project"\n')
    assert load_settings().data_dir == str(tmp_path / "data")


def test_masked_never_contains_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text('[backends.gpt]\nmodel = "m"\napi_key_env = "MY_KEY"\n')
    monkeypatch.setenv("MY_KEY", "sk-secret-value-1234567890")
    masked = load_settings().masked()
    assert "sk-secret" not in repr(masked)
    assert masked["backends"]["gpt"]["api_key"] == "set (masked)"


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text('default_backend = "offline"\n[backends.x\nmodel = 1\n')
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert "veriloop.toml" in exc.value.message
    assert "line 2" in exc.value.message


def test_invalid_value_names_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text('[backends.gpt]\nmodel = "m"\nmax_concurrency = 0\n')
    with pytest.raises(ConfigError) as exc:
        load_settings()
    msg = exc.value.message
    assert "line 3" in msg and "backends.gpt.max_concurrency" in msg


def test_unknown_key_rejected(tmp_path: Path) -> None:
    (tmp_path / "veriloop.toml").write_text("no_such_setting = 1\n")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert "no_such_setting" in exc.value.message


def test_unknown_backend_lists_known() -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings().backend("nope")
    assert "nope" in exc.value.message and exc.value.hint and "offline" in exc.value.hint


def test_replay_name_is_a_backend() -> None:
    cfg = load_settings().backend("replay:/tmp/x.jsonl")
    assert cfg.kind == "replay" and cfg.cassette == "/tmp/x.jsonl"


def test_bad_env_value_is_blamed_on_env_not_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "veriloop.toml").write_text('default_backend = "offline"\n')
    monkeypatch.setenv("VERILOOP_SANDBOX__WALL_S", "abc")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert "VERILOOP_SANDBOX__WALL_S" in exc.value.message
    assert "veriloop.toml" not in exc.value.message
