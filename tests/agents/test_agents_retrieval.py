"""Retrieval in the design flow: corpus snippets in the prompts (ingested on first use), lessons, failures."""

from __future__ import annotations

import json
from pathlib import Path

from veriloop.agents import run_design
from veriloop.config import load_settings
from veriloop.testing.fake_openai import write_config


def _retrieval_notes(out: Path) -> list[dict]:
    lines = (out / "transcript.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == "retrieval"]


def _evidence(fix_prompt: str) -> str:
    evidence = fix_prompt.split("The verifier's evidence:", 1)[1].split("Current RTL:", 1)[0]
    assert "Mismatches:" in evidence
    return evidence


def test_fresh_data_dir_gets_the_corpus_and_prompts_carry_cited_snippets(
    tmp_path: Path, fake_openai, kit
) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.GOOD])
    write_config(tmp_path, fake_openai)
    settings = load_settings()
    assert not settings.knowledge_path.exists()  # a fresh data dir: no knowledge store yet
    result = run_design(kit.SPEC, settings, out_dir=tmp_path / "out", max_iters=1)
    assert result.verified, result.reason

    from veriloop.knowledge.store import open_store

    store = open_store(settings, create=False)  # created and filled automatically on first use
    assert store.meta.get("corpus_fingerprint") and store.stats().counts["docs"] > 100

    cited = result.report["citations"]
    corpus = [c for c in cited if c["source"].startswith("corpus/")]
    assert corpus, cited
    assert any(c["source"] == "corpus/idioms/resets.md" for c in corpus), corpus
    # The snippet text itself (not only its name) is in the architect's and the generator's prompts.
    snippet = next(c["text"] for c in corpus if c["source"] == "corpus/idioms/resets.md")
    line = next(s for s in snippet.splitlines() if len(s.strip()) > 30).strip()
    architect = kit.last_user(kit.requests_of(fake_openai, "architect")[0])
    generator = kit.last_user(kit.requests_of(fake_openai, "generator")[0])
    assert "corpus/idioms/resets.md" in architect and line in architect
    assert "Reference [corpus/idioms/resets.md]" in generator and line in generator

    notes = _retrieval_notes(tmp_path / "out")
    assert len(notes) == 1 and notes[0]["agent"] == "architect"
    assert "corpus/idioms/resets.md" in notes[0]["citations"]
    assert "corpus/idioms/resets.md" in notes[0]["text"]
    assert "corpus/idioms/resets.md" in (tmp_path / "out" / "transcript.md").read_text()


def test_a_lesson_from_one_run_reaches_the_next_run_that_hits_the_same_error(
    tmp_path: Path, fake_openai, kit
) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.BUGGY, kit.GOOD])
    write_config(tmp_path, fake_openai)
    settings = load_settings()
    first = run_design(kit.SPEC, settings, out_dir=tmp_path / "one", max_iters=3)
    assert first.verified and first.report["lessons_stored"] == 1
    first_fix = kit.last_user(kit.requests_of(fake_openai, "generator")[1])
    assert "Lesson [" not in kit.last_user(kit.requests_of(fake_openai, "generator")[0])
    from veriloop.knowledge.store import open_store

    stored = open_store(settings, create=False).find_lessons(_evidence(first_fix), k=5)
    assert [h.lesson.provenance.run_id for h in stored if h.exact] == [first.run_id]
    signature = stored[0].lesson.error_signature

    fake_openai.reset()
    fake_openai.responder = kit.Team(rtl=[kit.BUGGY, kit.GOOD])  # the same mistake again
    second = run_design(kit.SPEC, settings, out_dir=tmp_path / "two", max_iters=3)
    assert second.verified
    source = f"lesson/{first.run_id}"
    gen = kit.requests_of(fake_openai, "generator")
    assert f"Lesson [{source}]" in kit.last_user(gen[0])
    assert second.report["verdicts"][0]["category"] == "mismatch"

    # The error this second run hit has the stored lesson's exact signature (and is not stored twice).
    store = open_store(settings, create=False)
    hits = store.find_lessons(_evidence(kit.last_user(gen[1])), k=5)
    assert hits and hits[0].exact and hits[0].lesson.error_signature == signature
    assert store.stats().counts["lessons"] == 1
    assert any(c["source"] == source for c in second.report["citations"])
    assert source in (tmp_path / "two" / "transcript.jsonl").read_text()
    # The fix prompt looks lessons up by the verifier's evidence: run 2's carries run 1's fix.
    assert "Earlier runs hit this same error" not in first_fix
    second_fix = kit.last_user(gen[1])
    assert "Earlier runs hit this same error" in second_fix and signature in second_fix
    assert f"run {first.run_id}" in second_fix


def test_disabled_knowledge_base_is_said_once_and_the_flow_goes_on(tmp_path: Path, fake_openai, kit) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.GOOD])
    write_config(tmp_path, fake_openai, extra="[knowledge]\nenabled = false\n")
    settings = load_settings()
    result = run_design(kit.SPEC, settings, out_dir=tmp_path / "out", max_iters=1)
    assert result.verified
    assert not settings.knowledge_path.exists()
    notes = _retrieval_notes(tmp_path / "out")
    assert [n["text"] for n in notes if "knowledge" in n["text"]] == [
        "no knowledge-base retrieval: knowledge base disabled (knowledge.enabled = false)"
    ]
    assert not any(c["source"].startswith("corpus/") for c in result.report["citations"])


def test_unreachable_embeddings_leave_the_flow_without_retrieval_not_crashed(
    tmp_path: Path, fake_openai, kit
) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake_openai.responder = kit.Team(rtl=[kit.GOOD])
    extra = f"""
[backends.deadembed]
kind = "openai"
base_url = "http://127.0.0.1:{port}/v1"
model = "none"
api_key_env = "FAKE_KEY"
timeout_s = 5

[knowledge]
embedding = "openai"
embedding_backend = "deadembed"
"""
    write_config(tmp_path, fake_openai, extra=extra)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=1)
    assert result.verified, result.reason
    notes = [n["text"] for n in _retrieval_notes(tmp_path / "out") if "knowledge" in n["text"]]
    assert len(notes) == 1 and "\n" not in notes[0], notes
    assert notes[0].startswith("no knowledge-base retrieval: knowledge base unavailable:")
    assert "did not answer" in notes[0]
    assert not any(c["source"].startswith("corpus/") for c in result.report["citations"])
