"""The UI's HTTP side: a Starlette app (JSON API + one static page), the token check, and serving it."""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
from collections.abc import Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from veriloop import runstore
from veriloop.errors import InputError, VeriloopError
from veriloop.runstore import RunRecord
from veriloop.web import data

STATIC = Path(__file__).parent / "static"
COOKIE = "veriloop_ui_token"
MAX_NOTE = 4000


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TokenGate:
    """ASGI middleware: with a token set, every request must carry it (query `token`, header
    `Authorization: Bearer`, or the cookie the first page load sets); others get 401."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    def _presented(self, scope: Scope) -> tuple[str, bool]:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if query.get("token"):
            return query["token"][0], True
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip(), False
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header counts as no token
            return "", False
        return (cookie[COOKIE].value if COOKIE in cookie else ""), False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given, in_query = self._presented(scope)
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            resp = JSONResponse({"error": "This veriloop ui needs its token (printed when it started).",
                                 "hint": "Open the URL with ?token=... that `veriloop ui` printed."},
                                status_code=401)
            await resp(scope, receive, send)
            return
        if not in_query:
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie",
                                f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class LoopbackHosts:
    """ASGI middleware for the token-less loopback UI: only requests addressed to a loopback name pass,
    so a web page whose DNS name is rebound to 127.0.0.1 cannot read the runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = dict(scope.get("headers", [])).get(b"host", b"").decode("latin-1")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name.strip("[]") not in ("127.0.0.1", "localhost", "::1") and not name.startswith("127."):
                resp = JSONResponse({"error": f"Host {host!r} is not a loopback address."}, status_code=403)
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _error(exc: Exception) -> JSONResponse:
    if isinstance(exc, VeriloopError):
        code = 404 if isinstance(exc, InputError) else 500
        return JSONResponse({"error": exc.message, "hint": exc.hint}, status_code=code)
    return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=500)


class Answers:
    """Answers to design runs waiting at an `--interactive` interrupt: each continues the run's thread
    in a background thread of this server (until it ends or waits again); one answer per run at a time."""

    def __init__(self, settings: Any) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self.running: set[str] = set()
        self.errors: dict[str, str] = {}

    def settings(self) -> Any:
        if self._settings is None:
            from veriloop.config import load_settings

            self._settings = load_settings()
        return self._settings

    def start(self, rec: RunRecord, answer: str) -> bool:
        from veriloop.agents.runs import resume

        with self._lock:
            if rec.id in self.running:
                return False
            self.running.add(rec.id)
            self.errors.pop(rec.id, None)
        settings = self.settings()

        def work() -> None:
            try:  # this server's process owns the run while it continues
                resume(runstore.update_run(rec, status="running"), settings, answer=answer)
            except Exception as exc:  # shown on the page; the run record says what happened
                self.errors[rec.id] = exc.message if isinstance(exc, VeriloopError) else repr(exc)
            finally:
                with self._lock:
                    self.running.discard(rec.id)

        threading.Thread(target=work, name=f"answer-{rec.id}", daemon=True).start()
        return True


def build_app(data_dir: Path, token: str | None = None, settings: Any = None) -> ASGIApp:
    """The UI over the runs under `data_dir`; with `token`, every request must present it. `settings`
    (loaded when first needed otherwise) is what an answered design run continues with."""
    data_dir = Path(data_dir)
    answers = Answers(settings)

    async def threaded(fn: Callable[..., Any], *args: Any) -> Response:
        try:
            return JSONResponse(await run_in_threadpool(fn, *args))
        except VeriloopError as exc:
            return _error(exc)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def runs(request: Request) -> Response:
        return await threaded(data.runs_list, data_dir, request.query_params.get("kind") or None)

    async def status(request: Request) -> Response:
        rid = request.path_params["run_id"]

        def read() -> dict[str, Any]:
            out = data.run_status(data_dir, rid)
            if out["kind"] == "design":
                out["answering"] = rid in answers.running
                out["answer_error"] = answers.errors.get(rid)
            return out

        return await threaded(read)

    async def evolve(request: Request) -> Response:
        return await threaded(lambda: data.evolve_view(data.record(data_dir, request.path_params["run_id"],
                                                                   "evolve")))

    async def program(request: Request) -> Response:
        return await threaded(lambda: data.evolve_program(
            data.record(data_dir, request.path_params["run_id"], "evolve"), request.path_params["pid"]))

    async def add_note(request: Request) -> Response:
        from veriloop.evolve.database import add_note as record_note

        # JSON only: a cross-site form cannot send it without a preflight this server never grants.
        if "application/json" not in request.headers.get("content-type", ""):
            return JSONResponse({"error": "Send the note as JSON."}, status_code=415)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "The note is not valid JSON."}, status_code=400)
        text = str((body or {}).get("text") or "").strip()
        if not text or len(text) > MAX_NOTE:
            return JSONResponse({"error": f"A note is 1 to {MAX_NOTE} characters."}, status_code=400)

        def write() -> dict[str, Any]:
            rec = data.record(data_dir, request.path_params["run_id"], "evolve")
            return record_note(rec.dir / "programs.sqlite", text)

        return await threaded(write)

    async def bench(request: Request) -> Response:
        return await threaded(lambda: data.bench_view(data.record(data_dir, request.path_params["run_id"],
                                                                  "bench")))

    async def sample(request: Request) -> Response:
        q = request.query_params
        try:
            idx = int(q.get("idx", "0"))
        except ValueError:
            return JSONResponse({"error": "idx must be an integer."}, status_code=400)
        return await threaded(lambda: data.bench_sample(
            data.record(data_dir, request.path_params["run_id"], "bench"), q.get("problem", ""),
            q.get("backend", ""), q.get("config", ""), idx))

    async def compare(request: Request) -> Response:
        pp = request.path_params
        return await threaded(lambda: data.bench_compare(data.record(data_dir, pp["a"], "bench"),
                                                         data.record(data_dir, pp["b"], "bench")))

    async def design(request: Request) -> Response:
        try:
            rec = await run_in_threadpool(data.record, data_dir, request.path_params["run_id"], "design")
            return JSONResponse(await data.design_view(rec))
        except VeriloopError as exc:
            return _error(exc)

    async def answer(request: Request) -> Response:
        if "application/json" not in request.headers.get("content-type", ""):
            return JSONResponse({"error": "Send the answer as JSON."}, status_code=415)
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"error": "The answer is not valid JSON."}, status_code=400)
        text = str((body or {}).get("answer") or "").strip()
        if not text or len(text) > MAX_NOTE:
            return JSONResponse({"error": f"An answer is 1 to {MAX_NOTE} characters."}, status_code=400)
        try:
            rec = await run_in_threadpool(data.record, data_dir, request.path_params["run_id"], "design")
            view = await data.design_view(rec)
        except VeriloopError as exc:
            return _error(exc)
        if not view["waiting_for_human"]:
            return JSONResponse({"error": f"Run {rec.id} is not waiting for a human."}, status_code=409)
        if runstore.display_status(rec) == "running":  # its own process asks in its terminal: answer there
            return JSONResponse({"error": f"Run {rec.id} is still running in its own process; answer in its "
                                          "terminal."}, status_code=409)
        if not answers.start(rec, text):
            return JSONResponse({"error": f"Run {rec.id} is already taking an answer."}, status_code=409)
        return JSONResponse({"started": True, "answer": text}, status_code=202)

    app = Starlette(routes=[
        Route("/", index),
        Route("/api/runs", runs),
        Route("/api/runs/{run_id}/status", status),
        Route("/api/evolve/{run_id}", evolve),
        Route("/api/evolve/{run_id}/program/{pid}", program),
        Route("/api/evolve/{run_id}/notes", add_note, methods=["POST"]),
        Route("/api/bench/{run_id}", bench),
        Route("/api/bench/{run_id}/sample", sample),
        Route("/api/compare/{a}/{b}", compare),
        Route("/api/design/{run_id}", design),
        Route("/api/design/{run_id}/answer", answer, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ])
    return TokenGate(app, token) if token else LoopbackHosts(app)


def bind(host: str, port: int) -> socket.socket:
    """Listen on host:port (port 0: any free port) before serving, so the URL printed is the real one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"Cannot listen on {host}:{port}: {exc.strerror}.",
                         hint="Pick another port with --port (0 picks a free one).") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(app: ASGIApp, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM)."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
