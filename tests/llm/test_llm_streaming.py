"""Streamed replies and the runaway stop, through the real openai SDK and the fake server (issue 14).

The reply texts are a real small model's (tests/llm/data/issue14_replies.json, copied verbatim
from the issue 14 cassettes): its looping testbenches and a selection of its complete replies.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from veriloop.llm.fit import estimate_tokens
from veriloop.llm.progress import watch_call
from veriloop.llm.runaway import runaway_reason
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply, count_completion_tokens
from veriloop.testing.llm import fake_backend, user_request

REPLIES = json.loads((Path(__file__).parent / "data" / "issue14_replies.json").read_text(encoding="utf-8"))
RUNAWAY: dict[str, Any] = REPLIES["runaway"]
COMPLETE: dict[str, Any] = REPLIES["complete"]


def long_runaway(tokens: int = 9399) -> str:
    """The real looping testbench (seqdet, design-fsm cassette), its loop continued to `tokens` words
    as the uncapped reply of the issue ran (9,399 tokens in 600 s)."""
    text = RUNAWAY["fsm_testbench"]["text"]
    loop = "        #1 clk = 1;\n        #1 clk = 0;\n"
    while count_completion_tokens(text, []) < tokens:
        text += loop
    return text


async def test_a_9399_token_runaway_testbench_is_stopped_early(fake_openai: FakeOpenAIServer) -> None:
    text = long_runaway()
    assert count_completion_tokens(text, []) >= 9399
    # 1 ms a token: unstopped, the stream alone would take over 9 s.
    fake_openai.enqueue(Reply(content=text, finish_reason="length", token_delay_s=0.001))
    backend = fake_backend(fake_openai, retries=0, max_tokens={"testbench": 12000})
    out = await backend.complete(user_request("Write the testbench.", task="design.testbench"))
    assert out.finish_reason == "length"
    assert out.cut_reason == "stopped: the reply repeated the same 2 lines 12 times"
    assert out.text.startswith("```verilog\nmodule tb;") and text.startswith(out.text)
    assert out.completion_tokens < 9399 / 10, out.completion_tokens
    assert out.prompt_tokens == estimate_tokens(user_request("Write the testbench."))  # no usage chunk came
    for _ in range(500):  # the server notices the hang-up at one of its next writes
        if fake_openai.stream_aborts:
            break
        await asyncio.sleep(0.01)
    # Stopped early, counted in pieces the server sent rather than in seconds (a loaded CI machine
    # once took 6.3 s for what takes 1 s idle): under a fifth of the reply ever left the server.
    assert fake_openai.stream_aborts == 1 and fake_openai.streamed[-1] < 9399 / 5
    snap = backend.ledger.snapshot()
    assert (snap.calls, snap.completion_tokens) == (1, out.completion_tokens)
    await backend.aclose()


@pytest.mark.parametrize("name", sorted(RUNAWAY))
async def test_every_recorded_looping_testbench_is_stopped(fake_openai: FakeOpenAIServer, name: str) -> None:
    reply = RUNAWAY[name]
    fake_openai.enqueue(Reply(content=reply["text"], finish_reason="length"))
    out = await fake_backend(fake_openai, retries=0).complete(user_request("tb", task="design.testbench"))
    assert out.finish_reason == "length" and (out.cut_reason or "").startswith("stopped: the ")
    assert out.completion_tokens < count_completion_tokens(reply["text"], []), out.cut_reason


async def test_complete_real_replies_stream_through_whole_with_the_servers_usage(
    fake_openai: FakeOpenAIServer,
) -> None:
    backend = fake_backend(fake_openai, retries=0)
    for key, reply in COMPLETE.items():
        fake_openai.enqueue(reply["text"])
        out = await backend.complete(user_request(f"prompt for {key}", task=reply["task"]))
        assert out.text == reply["text"], key
        assert (out.finish_reason, out.cut_reason) == ("stop", None), key
        body = fake_openai.requests[-1]
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        # Usage is the server's, from the last chunk, exactly as it counts without streaming.
        assert out.completion_tokens == count_completion_tokens(reply["text"], []), key
        assert runaway_reason(reply["text"]) is None, key
    assert fake_openai.stream_aborts == 0
    snap = backend.ledger.snapshot()
    assert snap.calls == len(COMPLETE)
    await backend.aclose()


def test_legitimate_repetitive_code_is_not_a_runaway() -> None:
    # A lookup table and a list of test vectors repeat their shape, but every line says something new.
    lut = "module sbox(input [7:0] a, output reg [7:0] y);\nalways @* case (a)\n" + "".join(
        f"  8'h{i:02x}: y = 8'h{(i * 7 + 3) % 256:02x};\n" for i in range(256)
    ) + "endcase\nendmodule\n"
    vectors = "initial begin\n" + "".join(
        f"  a = 8'd{i}; b = 8'd{3 * i};\n  #10;\n  if (y !== 8'd{4 * i}) errors = errors + 1;\n"
        for i in range(60)
    ) + "end\n"
    assert runaway_reason(lut) is None and runaway_reason(vectors) is None
    # Ten identical lines in a row are still fine; the same two lines twelve times are not.
    assert runaway_reason("begin\n" + "  @(posedge clk);\n" * 10 + "end\n") is None
    assert runaway_reason("x = 1;\ny = 2;\n" * 12) == "stopped: the reply repeated the same 2 lines 12 times"


async def test_a_server_that_ignores_the_cap_is_stopped_at_it(fake_openai: FakeOpenAIServer) -> None:
    words = " ".join(f"w{i}" for i in range(400))  # one long line: only the cap can stop it
    fake_openai.enqueue(Reply(content=words, finish_reason="stop"))
    out = await fake_backend(fake_openai, retries=0).complete(user_request("x", max_tokens=50))
    assert out.finish_reason == "length" and out.completion_tokens == 51
    assert out.cut_reason == (
        "stopped: the reply passed its max_tokens cap (50) without ending (the server did not stop it)"
    )


async def test_a_cut_reply_says_its_cap_streamed_or_not(fake_openai: FakeOpenAIServer) -> None:
    for stream in (True, False):
        fake_openai.enqueue(Reply(content="```verilog\nmodule tb;\n  reg clk;\n", finish_reason="length"))
        backend = fake_backend(fake_openai, retries=0, stream=stream, max_tokens={"testbench": 777})
        out = await backend.complete(user_request("tb", task="design.testbench"))
        assert (out.finish_reason, out.cut_reason) == ("length", "cut off at max_tokens 777")
        assert ("stream" in fake_openai.requests[-1]) is stream


async def test_missing_usage_is_estimated(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.stream_usage = False  # a server that ignores stream_options
    fake_openai.enqueue("one two three four")
    req = user_request("count these words please")
    out = await fake_backend(fake_openai, retries=0).complete(req)
    assert out.text == "one two three four" and out.completion_tokens == 4
    assert out.prompt_tokens == estimate_tokens(req) and out.finish_reason == "stop"


async def test_a_server_rejecting_stream_options_is_asked_without_them(fake_openai: FakeOpenAIServer) -> None:
    def strict(body: dict[str, Any]) -> Reply | str:
        if "stream_options" in body:
            return Reply(status=400, error_code="invalid_request_error",
                         error_message="Unrecognized request argument supplied: stream_options")
        return "fine"

    fake_openai.responder = strict
    backend = fake_backend(fake_openai, retries=0)
    assert (await backend.complete(user_request("a"))).text == "fine"
    assert (await backend.complete(user_request("b"))).text == "fine"
    sent = [("stream_options" in b) for b in fake_openai.requests]
    assert sent == [True, False, False]  # asked once with the option, never again
    assert backend.ledger.snapshot().calls == 2


async def test_a_server_that_does_not_stream_answers_json(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.streaming = False
    fake_openai.enqueue(Reply(content="plain reply", prompt_tokens=11, completion_tokens=2))
    out = await fake_backend(fake_openai, retries=0).complete(user_request("x"))
    assert (out.text, out.prompt_tokens, out.completion_tokens) == ("plain reply", 11, 2)


async def test_a_stream_that_never_ends_stops_at_timeout_with_what_came(
    fake_openai: FakeOpenAIServer,
) -> None:
    text = "\n".join(f"line {i} says something new" for i in range(200))
    fake_openai.enqueue(Reply(content=text, token_delay_s=0.02))  # about 20 s in all
    out = await fake_backend(fake_openai, retries=0, timeout_s=1.0).complete(user_request("x"))
    assert out.finish_reason == "length" and out.text and text.startswith(out.text)
    assert out.cut_reason == "stopped: the reply had not ended after 1 s (timeout_s)"


async def test_progress_counts_tokens_while_the_reply_streams(fake_openai: FakeOpenAIServer) -> None:
    text = " ".join(f"t{i}" for i in range(60))
    fake_openai.enqueue(Reply(content=text, token_delay_s=0.02))
    backend = fake_backend(fake_openai, retries=0)
    progress = watch_call()
    job = asyncio.ensure_future(backend.complete(user_request("x")))
    await asyncio.sleep(0.5)
    mid = progress.tokens
    assert 0 < mid < 60 and "tokens so far" in progress.describe()
    out = await job
    assert progress.tokens == 60 == out.completion_tokens
    await backend.aclose()


async def test_stream_off_sends_plain_requests(fake_openai: FakeOpenAIServer) -> None:
    out = await fake_backend(fake_openai, stream=False).complete(user_request("hello"))
    assert out.text == "fake reply to: hello"
    assert "stream" not in fake_openai.requests[-1] and fake_openai.streamed == []
