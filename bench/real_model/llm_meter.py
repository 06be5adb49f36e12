"""A metering HTTP proxy in front of an OpenAI-compatible server: one neutral count of LLM calls.

Both frameworks of a comparison talk to the same model through their own proxy; each exchange
(request parameters, HTTP status, the server's token usage, finish_reason, the reply text, time)
is recorded, whichever client library, retry policy or streaming mode the framework uses. While
the upstream is down (refused, reset before replying, 503) the proxy retries the same request for
a few minutes: a server restart is not the framework's failure (`upstream_retries` notes it);
after that the exchange is recorded as failed and the client gets a 502.

    with MeteringProxy("http://127.0.0.1:8088") as meter:
        run_framework(base_url=meter.base_url)      # ".../v1"
    meter.calls                                     # list[dict], one per POST
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "accept-encoding"}


def _sse_fold(rec: dict[str, Any], raw: bytes) -> None:
    """Fold the server-sent events of a streamed reply into the record (text, finish, usage)."""
    text: list[str] = []
    for line in raw.decode("utf-8", "replace").splitlines():
        if not line.startswith("data:") or line.strip() == "data: [DONE]":
            continue
        try:
            ev = json.loads(line[5:])
        except json.JSONDecodeError:
            continue
        for ch in ev.get("choices") or []:
            text.append(str((ch.get("delta") or {}).get("content") or ""))
            rec["finish_reason"] = ch.get("finish_reason") or rec.get("finish_reason")
        if ev.get("usage"):
            rec["prompt_tokens"] = int(ev["usage"].get("prompt_tokens") or 0)
            rec["completion_tokens"] = int(ev["usage"].get("completion_tokens") or 0)
    rec["reply"] = "".join(text)


def _json_fold(rec: dict[str, Any], raw: bytes) -> None:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        rec["error"] = "reply is not JSON: " + raw[:200].decode("utf-8", "replace")
        return
    if not isinstance(body, dict):
        return
    usage = body.get("usage") or {}
    rec["prompt_tokens"] = int(usage.get("prompt_tokens") or 0)
    rec["completion_tokens"] = int(usage.get("completion_tokens") or 0)
    choices = body.get("choices") or []
    if choices:
        rec["finish_reason"] = choices[0].get("finish_reason")
        rec["reply"] = str((choices[0].get("message") or {}).get("content") or "")
    if "error" in body:
        rec["error"] = json.dumps(body["error"])[:500]


class MeteringProxy:
    """A threaded proxy on 127.0.0.1 (an ephemeral port) forwarding every request to `upstream`."""

    def __init__(self, upstream: str, timeout_s: float = 3600.0, down_grace_s: float = 300.0) -> None:
        parts = urlsplit(upstream)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout_s = timeout_s
        self.down_grace_s = down_grace_s
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        meter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # close-delimited replies: streamed ones need no chunking

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
                return

            def do_GET(self) -> None:
                meter._forward(self, b"", None)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                meter._forward(self, body, meter._new_record(self.path, body))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> MeteringProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _new_record(self, path: str, body: bytes) -> dict[str, Any]:
        try:
            req = json.loads(body or b"{}")
        except json.JSONDecodeError:
            req = {}
        msgs = req.get("messages") or []
        rec: dict[str, Any] = {
            "path": path,
            "start": time.time(),
            "max_tokens": req.get("max_tokens", req.get("max_completion_tokens")),
            "temperature": req.get("temperature"),
            "seed": req.get("seed"),
            "stream": bool(req.get("stream")),
            "prompt_chars": sum(len(str(m.get("content") or "")) for m in msgs),
            "messages": msgs,
            "status": None,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "finish_reason": None,
            "reply": "",
            "error": None,
        }
        with self._lock:
            rec["seq"] = len(self.calls)
            self.calls.append(rec)
        return rec

    def _open(
        self, h: BaseHTTPRequestHandler, body: bytes, headers: dict[str, str], rec: dict[str, Any] | None
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Send the request upstream; while the server is down or restarting (refused, reset before
        a reply, 503) try again every 5 s for up to `down_grace_s`: an outage is not the client's."""
        deadline = time.monotonic() + self.down_grace_s
        while True:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
            try:
                conn.request(h.command, h.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                if resp.status != 503 or time.monotonic() > deadline:
                    return conn, resp
                resp.read()
                why = "HTTP 503"
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected) as exc:
                if time.monotonic() > deadline:
                    raise
                why = type(exc).__name__
            conn.close()
            if rec is not None:
                rec["upstream_retries"] = rec.get("upstream_retries", 0) + 1
                rec["upstream_outage"] = why
            time.sleep(5)

    def _forward(self, h: BaseHTTPRequestHandler, body: bytes, rec: dict[str, Any] | None) -> None:
        headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
        conn: http.client.HTTPConnection | None = None
        answered = False
        try:
            conn, resp = self._open(h, body, headers, rec)
            streamed = "text/event-stream" in (resp.getheader("Content-Type") or "")
            h.send_response(resp.status)
            answered = True
            for k, v in resp.getheaders():
                if k.lower() not in _HOP:
                    h.send_header(k, v)
            raw = b""
            if streamed:
                h.end_headers()
                while chunk := resp.read1(65536):
                    raw += chunk
                    h.wfile.write(chunk)
                    h.wfile.flush()
            else:
                raw = resp.read()
            if rec is not None:  # recorded before the client gets it: a client gone by now is noted
                rec["status"] = resp.status
                (_sse_fold if streamed else _json_fold)(rec, raw)
            if not streamed:
                h.send_header("Content-Length", str(len(raw)))
                h.end_headers()
                h.wfile.write(raw)
        except (OSError, http.client.HTTPException) as exc:
            if rec is not None:
                rec["error"] = f"{type(exc).__name__}: {exc}"[:300]
                rec["status"] = rec["status"] or 502
            if not answered:
                try:
                    msg = json.dumps({"error": {"message": f"upstream failed: {exc}"}}).encode()
                    h.send_response(502)
                    h.send_header("Content-Type", "application/json")
                    h.send_header("Content-Length", str(len(msg)))
                    h.end_headers()
                    h.wfile.write(msg)
                except OSError:
                    pass
        finally:
            if conn is not None:
                conn.close()
            if rec is not None:
                rec["end"] = time.time()
                rec["seconds"] = round(rec["end"] - rec["start"], 2)

    def summary(self) -> dict[str, Any]:
        return summarize(self.calls)


def summarize(calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Requests, replies (HTTP 200 with a choice), failures, tokens, cut-offs, time in calls."""
    ok = [c for c in calls if c["status"] == 200 and c["error"] is None]
    return {
        "http_requests": len(calls),
        "replies": len(ok),
        "failed_requests": len(calls) - len(ok),
        "prompt_tokens": sum(c["prompt_tokens"] for c in ok),
        "completion_tokens": sum(c["completion_tokens"] for c in ok),
        "cut_off_replies": sum(1 for c in ok if c["finish_reason"] == "length"),
        "upstream_retries": sum(c.get("upstream_retries", 0) for c in calls),
        "llm_seconds": round(sum(c.get("seconds", 0.0) for c in calls), 1),
        "max_tokens_sent": sorted({c["max_tokens"] for c in calls} - {None}),
        "temperatures_sent": sorted({c["temperature"] for c in calls} - {None}),
    }
