"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests (stdlib only, background thread).

Usage::

    with FakeOpenAIServer(latency_s=0.1) as srv:
        srv.enqueue(Reply(status=429, retry_after=0.2), "hello")   # FIFO script, then the responder
        write_config(tmp_path, srv)                                # veriloop.toml with [backends.fake]
        ... srv.requests, srv.request_count, srv.max_in_flight ...

Endpoints: POST /v1/chat/completions (JSON, or with `stream: true` an SSE stream of one chunk per
word, as servers send one per token; `stream_options.include_usage` adds the final usage chunk),
POST /v1/embeddings (deterministic feature-hashed unit vectors, float or base64), GET /v1/models
and GET /v1/models/{id} (with `max_model_len` when set, as vLLM lists it), and GET /props when
`props` is set (llama.cpp's server properties, e.g. {"default_generation_settings": {"n_ctx": 4096}}).

Streams: `Reply.token_delay_s` paces the pieces; `.streamed` lists the content pieces each stream
sent and `.stream_aborts` counts streams the client hung up on. Server switches: `stream_usage=False`
(ignores include_usage, sends no usage), `streaming=False` (answers stream requests with JSON).

A reply is a `Reply` or a plain string (the assistant's content). The default responder echoes
the first words of the last user message: "fake reply to: ...".

Token counts, unless a Reply fixes them: prompt_tokens = 3 per message + whitespace-separated words
of every message's content (+ words of tool specs' JSON); completion_tokens = max(1, words of the
content + words of each tool call's JSON arguments).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import re
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from veriloop.config import toml_literal

_DEFAULT_ERRORS: dict[int, tuple[str, str, str]] = {
    # status: (type, code, message)
    400: (
        "invalid_request_error",
        "context_length_exceeded",
        "This model's maximum context length is 8192 tokens. However, your messages resulted in "
        "9000 tokens. Please reduce the length of the messages.",
    ),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "permission_denied", "You are not allowed to use this model."),
    404: (
        "invalid_request_error", "model_not_found", "The model does not exist or you have no access to it."
    ),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
    500: ("server_error", "server_error", "The server had an error while processing your request."),
    502: ("server_error", "bad_gateway", "Bad gateway."),
    503: ("server_error", "overloaded", "The engine is currently overloaded."),
}


@dataclass
class Reply:
    """One scripted answer of the fake server.

    content: the assistant text (None with tool calls only). tool_calls: [{"name", "arguments"}]
    where arguments is a dict (sent JSON-encoded) or a str (sent as is, e.g. malformed JSON).
    status != 200 answers with an OpenAI-shaped error (error_code/error_message override the
    defaults; 400 defaults to context_length_exceeded). retry_after (seconds) and
    retry_after_ms set those headers. delay_s adds latency to this reply. malformed sends an
    invalid JSON body; truncated cuts the connection mid-body (mid-stream when streaming); empty
    answers with no choices; hang never answers (until the client gives up or the server stops).
    token_delay_s waits between the streamed pieces (a model generating at 1/token_delay_s tokens/s).
    """

    content: str | None = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    retry_after_ms: float | None = None
    delay_s: float = 0.0
    malformed: bool = False
    truncated: bool = False
    empty: bool = False
    hang: bool = False
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    token_delay_s: float = 0.0


Responder = Callable[[dict[str, Any]], "Reply | str"]


def _words(text: str | None) -> int:
    return len(text.split()) if text else 0


def _message_text(msg: dict[str, Any]) -> str:
    content = msg.get("content")
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def count_prompt_tokens(body: dict[str, Any]) -> int:
    """The fake server's deterministic prompt token count for a chat request body."""
    total = 0
    for msg in body.get("messages") or []:
        total += 3 + _words(_message_text(msg))
        for call in msg.get("tool_calls") or []:
            total += _words(json.dumps(call.get("function", {}).get("arguments", "")))
    for tool in body.get("tools") or []:
        total += _words(json.dumps(tool))
    return total


def count_completion_tokens(content: str | None, tool_calls: list[dict[str, Any]]) -> int:
    """The fake server's deterministic completion token count."""
    n = _words(content)
    for call in tool_calls:
        args = call.get("arguments", {})
        n += _words(args if isinstance(args, str) else json.dumps(args))
    return max(1, n)


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the last user message of a chat request body ("" if none)."""
    for msg in reversed(body.get("messages") or []):
        if msg.get("role") == "user":
            return _message_text(msg)
    return ""


def default_responder(body: dict[str, Any]) -> Reply | str:
    words = last_user_text(body).split()[:8]
    return "fake reply to: " + " ".join(words)


def hashed_embedding(text: str, dim: int = 64) -> list[float]:
    """A deterministic unit vector: signed feature hashing of lower-cased words and char trigrams."""
    vec = [0.0] * dim
    low = text.lower()
    feats = low.split() + [low[i : i + 3] for i in range(max(0, len(low) - 2))]
    for feat in feats:
        h = hashlib.blake2b(feat.encode(), digest_size=8).digest()
        idx = int.from_bytes(h[:4], "little") % dim
        vec[idx] += 1.0 if h[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:
        vec[0] = 1.0
        return vec
    return [v / norm for v in vec]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # many clients connect at once; the default backlog of 5 stalls them
    fake: FakeOpenAIServer

    def process_request(self, request: Any, client_address: Any) -> None:
        self.fake._track(request, True)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.fake._track(request, False)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    _counted = False  # this request is counted in the server's in_flight

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        return

    # -- plumbing -----------------------------------------------------------------------------
    def _send_json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        self._send_raw(status, json.dumps(obj).encode(), "application/json", headers)

    def _send_raw(
        self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self._reply_ends()
        self.wfile.write(data)
        self.wfile.flush()

    def _reply_ends(self) -> None:
        """Stop counting this request as in flight, before the bytes that end its reply are written.

        A client that has read a whole reply may send its next request at once; leaving only after
        the write (in a finally) let that request be counted beside this one.
        """
        if self._counted:
            self._counted = False
            self.server.fake._leave()

    def _read_body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, _error_obj("invalid_request_error", "invalid_json", "Body is not JSON."))
            return None
        return body if isinstance(body, dict) else {"_body": body}

    def _auth_ok(self) -> bool:
        fake = self.server.fake
        if fake.api_key is None:
            return True
        if self.headers.get("Authorization", "") == f"Bearer {fake.api_key}":
            return True
        typ, code, msg = _DEFAULT_ERRORS[401]
        self._send_json(401, _error_obj(typ, code, msg))
        return False

    # -- routes -------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        fake = self.server.fake
        fake._log("GET", self.path)
        if not self._auth_ok():
            return
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models":
            data = [_model_obj(m, fake.max_model_len) for m in fake.models]
            self._send_json(200, {"object": "list", "data": data})
        elif path == "/props" and fake.props is not None:
            self._send_json(200, fake.props)
        elif path.startswith("/v1/models/"):
            mid = path[len("/v1/models/") :]
            if mid in fake.models:
                self._send_json(200, _model_obj(mid, fake.max_model_len))
            else:
                typ, code, msg = _DEFAULT_ERRORS[404]
                self._send_json(404, _error_obj(typ, code, msg))
        else:
            self._send_json(404, _error_obj("invalid_request_error", "unknown_url", f"Unknown URL {path}."))

    def do_POST(self) -> None:  # noqa: N802
        fake = self.server.fake
        fake._log("POST", self.path)
        path = self.path.split("?", 1)[0].rstrip("/")
        body = self._read_body()
        if body is None:
            return
        if path == "/v1/chat/completions":
            fake._enter()
            self._counted = True
            try:
                self._chat(body)
            finally:
                self._reply_ends()
        elif path == "/v1/embeddings":
            with fake._lock:
                fake.embedding_requests.append(body)
            if self._auth_ok():
                self._embeddings(body)
        else:
            self._send_json(404, _error_obj("invalid_request_error", "unknown_url", f"Unknown URL {path}."))

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        with fake._lock:
            fake.requests.append(body)
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
        if not self._auth_ok():
            return
        model = str(body.get("model", ""))
        if fake.serve_models is not None and model not in fake.serve_models:
            typ, code, _ = _DEFAULT_ERRORS[404]
            self._send_json(404, _error_obj(typ, code, f"The model `{model}` does not exist."))
            return
        reply = fake._next_reply(body)
        wait = fake.latency_s + reply.delay_s
        if wait > 0 and fake._stopping.wait(wait):
            return
        if reply.hang:
            self._hang()
            return
        headers = dict(reply.headers)
        if reply.retry_after is not None:
            headers["Retry-After"] = _fmt_seconds(reply.retry_after)
        if reply.retry_after_ms is not None:
            headers["retry-after-ms"] = _fmt_seconds(reply.retry_after_ms)
        if reply.status != 200:
            typ, code, msg = _DEFAULT_ERRORS.get(reply.status, ("api_error", "error", f"HTTP {reply.status}"))
            err = _error_obj(typ, reply.error_code or code, reply.error_message or msg)
            self._send_json(reply.status, err, headers)
            return
        streaming = bool(body.get("stream")) and fake.streaming
        if reply.malformed:
            if streaming:
                self._send_raw(200, b'data: {"id": "chatcmpl-broken", "choices": [{"mess\n\n',
                               "text/event-stream", headers)
            else:
                self._send_raw(200, b'{"id": "chatcmpl-broken", "choices": [{"mess', "application/json",
                               headers)
            return
        obj = _completion_obj(body, reply)
        if streaming:
            self._stream(body, obj, reply, headers)
            return
        data = json.dumps(obj).encode()
        if reply.truncated:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self._reply_ends()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send_raw(200, data, "application/json", headers)

    def _hang(self) -> None:
        """Answer nothing until the client disconnects, the server stops or hang_max_s passes."""
        fake = self.server.fake
        self.close_connection = True
        deadline = time.monotonic() + fake.hang_max_s
        while time.monotonic() < deadline and not fake._stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable:
                try:
                    if not self.connection.recv(1, socket.MSG_PEEK):
                        return  # the client gave up
                except OSError:
                    return

    def _stream(
        self, body: dict[str, Any], obj: dict[str, Any], reply: Reply, headers: dict[str, str]
    ) -> None:
        """Send `obj` as an SSE stream in chunked transfer encoding, one piece per word."""
        fake = self.server.fake
        events = _stream_events(obj, include_usage=fake.stream_usage and bool(
            (body.get("stream_options") or {}).get("include_usage")))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        cut = len(events) // 2 if reply.truncated else None
        sent = 0
        # The count is recorded before each piece is written, so a client that has read the whole
        # stream always finds it complete (recording after the last write raced the client).
        with fake._lock:
            slot = len(fake.streamed)
            fake.streamed.append(0)
        try:
            for i, (event, is_piece) in enumerate(events):
                if cut is not None and i == cut:
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if is_piece and sent and reply.token_delay_s > 0 and fake._stopping.wait(reply.token_delay_s):
                    self.close_connection = True
                    return
                data = f"data: {json.dumps(event)}\n\n".encode()
                if is_piece:
                    fake._record_streamed(slot, sent + 1)
                if _ends_reply(event):
                    self._reply_ends()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                sent += int(is_piece)
            self.wfile.write(b"e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client hung up (a runaway stop, a cancelled call)
            self.close_connection = True
            with fake._lock:
                fake.stream_aborts += 1
            fake._record_streamed(slot, sent)

    def _embeddings(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        raw = body.get("input", "")
        single = not isinstance(raw, list) or (bool(raw) and isinstance(raw[0], int))
        inputs: list[Any] = [raw] if single else raw
        dim = int(body.get("dimensions") or fake.embedding_dim)
        data = []
        tokens = 0
        for i, item in enumerate(inputs):
            text = item if isinstance(item, str) else " ".join(str(t) for t in item)
            tokens += max(1, _words(text))
            vec = hashed_embedding(text, dim)
            emb: Any = vec
            if body.get("encoding_format") == "base64":
                emb = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode()
            data.append({"object": "embedding", "index": i, "embedding": emb})
        self._send_json(200, {
            "object": "list", "data": data, "model": body.get("model", "fake-embedding"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        })


def _fmt_seconds(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _error_obj(typ: str, code: str, msg: str) -> dict[str, Any]:
    return {"error": {"message": msg, "type": typ, "param": None, "code": code}}


def _model_obj(mid: str, max_model_len: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": mid, "object": "model", "created": 1700000000, "owned_by": "veriloop-fake"}
    if max_model_len is not None:
        out["max_model_len"] = max_model_len
    return out


def _stream_events(obj: dict[str, Any], *, include_usage: bool) -> list[tuple[dict[str, Any], bool]]:
    """The chunks of a completion as a server streams them: (chunk, carries a content piece)."""
    head = {"id": obj["id"], "object": "chat.completion.chunk", "created": obj["created"],
            "model": obj["model"], "system_fingerprint": "fp_fake"}

    def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> dict[str, Any]:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
        return {**head, "choices": choices}

    events: list[tuple[dict[str, Any], bool]] = []
    choice = obj["choices"][0] if obj["choices"] else None
    if choice is not None:
        message = choice["message"]
        events.append((chunk({"role": "assistant", "content": ""}), False))
        for piece in re.findall(r"\s*\S+|\s+", message.get("content") or ""):
            events.append((chunk({"content": piece}), True))
        for i, tc in enumerate(message.get("tool_calls") or []):
            fn = tc["function"]
            events.append((chunk({"tool_calls": [{"index": i, "id": tc["id"], "type": "function",
                                                  "function": {"name": fn["name"], "arguments": ""}}]}),
                           False))
            args = fn["arguments"]
            for part in (args[: len(args) // 2], args[len(args) // 2 :]):
                if part:
                    events.append((chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]}),
                                   False))
        events.append((chunk({}, choice["finish_reason"]), False))
    if include_usage or choice is None:
        usage_chunk = chunk(None)
        if include_usage:
            usage_chunk["usage"] = obj["usage"]
        events.append((usage_chunk, False))
    return events


def _ends_reply(event: dict[str, Any]) -> bool:
    """Whether a stream chunk tells the client its reply is complete (a finish reason or usage)."""
    return "usage" in event or any(c.get("finish_reason") for c in event.get("choices", []))


def _completion_obj(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    calls = []
    for i, tc in enumerate(reply.tool_calls):
        args = tc.get("arguments", {})
        calls.append({
            "id": tc.get("id") or f"call_{i}",
            "type": "function",
            "function": {
                "name": tc["name"], "arguments": args if isinstance(args, str) else json.dumps(args)
            },
        })
    content = reply.content if (reply.content or not calls) else None
    prompt = reply.prompt_tokens if reply.prompt_tokens is not None else count_prompt_tokens(body)
    completion = (
        reply.completion_tokens
        if reply.completion_tokens is not None
        else count_completion_tokens(content, reply.tool_calls)
    )
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = calls
    finish = reply.finish_reason or ("tool_calls" if calls else "stop")
    choice = {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
    choices = [] if reply.empty else [choice]
    return {
        "id": "chatcmpl-" + hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "fake-model"),
        "system_fingerprint": "fp_fake",
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion
        },
    }


class FakeOpenAIServer:
    """A scripted OpenAI-compatible server on 127.0.0.1 (ephemeral port) in a background thread.

    responder(body) -> Reply | str answers chat requests once the FIFO script (`enqueue`) is empty;
    it runs on the server's handler threads, possibly several at once (guard shared state). A
    responder that raises makes the server answer HTTP 500 and appends the message to `.errors`.
    latency_s delays every chat reply. api_key, when set, makes the server answer 401 to any other
    key. serve_models, when set, makes it answer 404 model_not_found for any other model.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        latency_s: float = 0.0,
        *,
        models: list[str] | None = None,
        serve_models: list[str] | None = None,
        api_key: str | None = None,
        embedding_dim: int = 64,
        hang_max_s: float = 120.0,
        props: dict[str, Any] | None = None,
        max_model_len: int | None = None,
        stream_usage: bool = True,
        streaming: bool = True,
    ) -> None:
        self.responder: Responder = responder or default_responder
        self.latency_s = latency_s
        self.models = list(models or serve_models or ["fake-model"])
        self.serve_models = serve_models
        self.api_key = api_key
        self.embedding_dim = embedding_dim
        self.hang_max_s = hang_max_s
        self.props = props
        self.max_model_len = max_model_len
        self.stream_usage = stream_usage
        self.streaming = streaming
        self.streamed: list[int] = []
        self.stream_aborts = 0
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.embedding_requests: list[dict[str, Any]] = []
        self.log: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._script: deque[Reply | str] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end hanging replies and close every open connection."""
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- properties ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """http://127.0.0.1:PORT (no /v1)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base_url, ending in /v1."""
        return f"{self.url}/v1"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    @property
    def running(self) -> bool:
        return self._httpd is not None

    # -- scripting ----------------------------------------------------------------------------
    def enqueue(self, *replies: Reply | str) -> None:
        """Append replies to the FIFO script; they answer the next chat requests before the responder."""
        with self._lock:
            self._script.extend(replies)

    @property
    def pending(self) -> int:
        """How many scripted replies are not yet consumed."""
        with self._lock:
            return len(self._script)

    def reset(self) -> None:
        """Forget recorded requests, counters and the script (the responder stays)."""
        with self._lock:
            self.requests.clear()
            self.headers.clear()
            self.embedding_requests.clear()
            self.log.clear()
            self.errors.clear()
            self.streamed.clear()
            self.stream_aborts = 0
            self._script.clear()
            self.max_in_flight = self.in_flight

    # -- internals used by the handler --------------------------------------------------------
    def _record_streamed(self, slot: int, pieces: int) -> None:
        """Set stream `slot`'s piece count (a stream started before a reset() is not recorded)."""
        with self._lock:
            if slot < len(self.streamed):
                self.streamed[slot] = pieces

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            scripted = self._script.popleft() if self._script else None
        try:
            out = scripted if scripted is not None else self.responder(body)
        except Exception as exc:  # a broken responder is a test bug: answer 500 and keep the message
            with self._lock:
                self.errors.append(f"{type(exc).__name__}: {exc}")
            return Reply(status=500, error_message=f"fake responder raised {type(exc).__name__}: {exc}")
        return Reply(content=out) if isinstance(out, str) else out

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _log(self, method: str, path: str) -> None:
        with self._lock:
            self.log.append((method, path))

    def _track(self, conn: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)


# -- config helpers ---------------------------------------------------------------------------
def backend_fields(server: FakeOpenAIServer, **fields: Any) -> dict[str, Any]:
    """The [backends.<name>] table for a backend pointing at `server` (fields override defaults)."""
    out: dict[str, Any] = {
        "kind": "openai",
        "base_url": server.base_url,
        "model": "fake-model",
        "api_key_env": "FAKE_KEY",
        "timeout_s": 10.0,
        "retries": 2,
    }
    out.update(fields)
    return out


def write_config(
    path: Path | str,
    server: FakeOpenAIServer,
    name: str = "fake",
    *,
    default: bool = True,
    extra: str = "",
    **fields: Any,
) -> Path:
    """Write a veriloop.toml whose backend `name` points at `server`; returns the file's path.

    `path` may be a directory (the file is `path/veriloop.toml`). With default=True the backend
    becomes `default_backend`. `extra` is raw TOML appended (other sections). The backend reads
    its key from FAKE_KEY unless api_key_env is given (the `fake_openai` fixture sets FAKE_KEY).
    """
    target = Path(path)
    if target.is_dir():
        target = target / "veriloop.toml"
    lines = []
    if default:
        lines.append(f"default_backend = {json.dumps(name)}")
        lines.append("")
    lines.append(f"[backends.{name}]")
    for k, v in backend_fields(server, **fields).items():
        if v is not None:
            lines.append(f"{k} = {toml_literal(v)}")
    text = "\n".join(lines) + "\n"
    if extra:
        text += "\n" + extra.strip() + "\n"
    target.write_text(text, encoding="utf-8")
    return target
