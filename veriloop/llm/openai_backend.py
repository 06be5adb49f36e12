"""The OpenAI-compatible backend: async openai SDK, bounded concurrency, our own retries, costs.

Replies are streamed by default (`stream = true` in the backend's table): a reply that runs away
(veriloop.llm.runaway) is stopped and returned like one cut off at max_tokens (finish_reason
"length", `cut_reason` saying why). Tokens come from the usage of the stream's last chunk
(`stream_options.include_usage`); when a stream ends without usage (stopped early, or a server
that does not send it) the prompt is estimated and each streamed piece counts as one token.
The context window is `context_tokens`, else read once from the server (llama.cpp /props, vLLM's
max_model_len); it lowers reply caps, leaves out droppable prompt parts (veriloop.llm.fit) and
refuses a clearly too long prompt before the call.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import weakref
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import openai
import pydantic
from openai.types.chat import ChatCompletion

from veriloop.config import BackendConfig
from veriloop.errors import (
    BackendAuthError,
    BackendError,
    BackendUnreachable,
    ContextTooLong,
    MalformedReply,
    ModelNotFound,
)
from veriloop.llm.caps import reply_cap
from veriloop.llm.contract import Completion, CompletionRequest, LLMBackend, Message, ToolCall, ToolSpec
from veriloop.llm.fit import estimate_tokens, trim_to_fit
from veriloop.llm.ledger import UsageLedger, cost_of
from veriloop.llm.limiter import shared_limiter
from veriloop.llm.progress import current_call
from veriloop.llm.runaway import RunawayWatch

__all__ = ["OpenAIBackend", "context_overflow_numbers", "estimate_tokens", "read_context_window"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "context length",
    "context window",
    "maximum context",
    "too many tokens",
    "prompt is too long",
    "input is too long",
    "exceeds the available context size",
    "exceed_context_size",
)
# (prompt tokens, context tokens) in the wordings of llama.cpp, vLLM and OpenAI.
_CONTEXT_NUMBERS = (
    # llama.cpp: "request (1047 tokens) exceeds the available context size (1024 tokens)"
    re.compile(r"request \((\d+) tokens?\) exceeds the available context size \((\d+) tokens?\)", re.I),
    # vLLM / OpenAI: "maximum context length is 8192 tokens. However, you requested / your messages
    # resulted in 9000 tokens"
    re.compile(
        r"maximum context length is (\d+) tokens?.*?(?:requested|resulted in) (\d+) tokens?", re.I | re.S
    ),
)


def context_overflow_numbers(message: str) -> tuple[int, int] | None:
    """(prompt tokens, context tokens) named by a server's context-overflow message, if it names them."""
    m = _CONTEXT_NUMBERS[0].search(message)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = _CONTEXT_NUMBERS[1].search(message)
    if m:
        return int(m.group(2)), int(m.group(1))
    return None


class _Retryable(Exception):
    """One failed attempt that may succeed if tried again."""

    def __init__(self, kind: str, detail: str, wait_hint: float | None = None) -> None:
        super().__init__(detail)
        self.kind = kind  # "rate_limit" | "server" | "timeout" | "connection" | "malformed" | "empty"
        self.detail = detail
        self.wait_hint = wait_hint


def missing_key_error(name: str, cfg: BackendConfig) -> BackendAuthError | None:
    """The error to raise before any call when the backend's key variable is not set (else None)."""
    if cfg.api_key_env and not cfg.api_key():
        return BackendAuthError(
            f"Backend '{name}' needs an API key in the environment variable {cfg.api_key_env}, "
            "which is not set.",
            hint=f"export {cfg.api_key_env}=... (or change api_key_env in [backends.{name}]; "
            "use --backend offline to run without an LLM).",
        )
    return None


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds a server asked us to wait (retry-after-ms, then Retry-After as seconds or HTTP date)."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    ra = headers.get("retry-after")
    if not ra:
        return None
    try:
        return max(0.0, float(ra))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(ra)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def message_to_openai(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [
            {
                "id": tc.id,
                "type": "function",
                "function": {"name": tc.name, "arguments": tc.raw_arguments or json.dumps(tc.arguments)},
            }
            for tc in m.tool_calls
        ]
    if m.tool_call_id is not None:
        out["tool_call_id"] = m.tool_call_id
    if m.name is not None:
        out["name"] = m.name
    return out


def tool_to_openai(t: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
    }


class OpenAIBackend(LLMBackend):
    """Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp, LM Studio, OpenRouter...)."""

    def __init__(
        self,
        name: str,
        cfg: BackendConfig,
        ledger: UsageLedger | None = None,
        *,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 30.0,
        retry_after_max_s: float = 120.0,
        rng: random.Random | None = None,
    ) -> None:
        err = missing_key_error(name, cfg)
        if err is not None:
            raise err
        self.name = name
        self.model = cfg.model
        self.cfg = cfg
        self.base_url = cfg.base_url or DEFAULT_BASE_URL
        self.ledger = ledger if ledger is not None else UsageLedger()
        self.limiter = shared_limiter((name, self.base_url, cfg.model), cfg.max_concurrency)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.retry_after_max_s = retry_after_max_s
        self._rng = rng or random.Random()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, openai.AsyncOpenAI] = (
            weakref.WeakKeyDictionary()
        )
        self.stream = cfg.stream
        self._stream_usage = True  # ask for usage in the last chunk until the server refuses it
        self._window: int | None = cfg.context_tokens
        self._window_known = cfg.context_tokens is not None

    def describe(self) -> str:
        return f"OpenAI-compatible endpoint {self.base_url}, model {self.model}"

    # -- client per event loop (httpx pools are bound to the loop that made them) -------------
    def _client(self) -> openai.AsyncOpenAI:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = openai.AsyncOpenAI(
                base_url=self.base_url,
                api_key=self.cfg.api_key() or "not-needed",
                max_retries=0,  # we own the retry policy
                timeout=self.cfg.timeout_s,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        client = self._clients.pop(loop, None)
        if client is not None:
            await client.close()

    # -- the context window -------------------------------------------------------------------
    async def context_window(self) -> int | None:
        """The model's context window in tokens: configured, else read once from the server."""
        if not self._window_known:
            try:
                self._window = await read_context_window(self._client(), self.base_url, self.model)
            except openai.APIConnectionError:
                return None  # unreachable now: the call itself will say so; ask again next time
            self._window_known = True
        return self._window

    # -- request building ----------------------------------------------------------------------
    def build_kwargs(self, req: CompletionRequest, context: int | None = None) -> dict[str, Any]:
        """The keyword arguments sent to chat.completions.create (messages and tools only; never context)."""
        return self._prepare(req, context if context is not None else self.cfg.context_tokens)[0]

    def _prepare(self, req: CompletionRequest, context: int | None) -> tuple[dict[str, Any], int, str | None]:
        """(create() keyword arguments, the reply cap sent, what was left out of the prompt)."""
        # Every request carries a reply cap: the caller's, else the configured/default one of its task.
        cap = req.max_tokens if req.max_tokens is not None else reply_cap(req.task, self.cfg.max_tokens)
        trimmed = None
        if context:
            req, cap, trimmed = self._fit_context(req, cap, context)
        kw: dict[str, Any] = {"model": self.model, "messages": [message_to_openai(m) for m in req.messages]}
        if req.tools:
            kw["tools"] = [tool_to_openai(t) for t in req.tools]
        if self.cfg.reasoning:
            kw["max_completion_tokens"] = cap
        else:
            if req.temperature is not None:
                kw["temperature"] = req.temperature
            kw["max_tokens"] = cap
        if req.seed is not None:
            kw["seed"] = req.seed
        if req.stop:
            kw["stop"] = req.stop
        if self.cfg.extra_body:
            kw["extra_body"] = dict(self.cfg.extra_body)
        return kw, cap, trimmed

    def _fit_context(
        self, req: CompletionRequest, cap: int, context: int
    ) -> tuple[CompletionRequest, int, str | None]:
        """Make prompt + reply fit the context window: leave out droppable parts and older tool
        exchanges while the reply would get less than half its cap (or half the window), then
        lower the cap to what is left; a prompt still clearly too long (a quarter over, by the
        estimate) fails here."""
        want = min(cap, max(256, cap // 2), context // 2)
        req, trimmed = trim_to_fit(req, context - want)
        prompt = estimate_tokens(req)
        if prompt > context * 1.25:
            source = "configured" if self.cfg.context_tokens else "as the server reports it"
            raise ContextTooLong(
                f"The request to backend '{self.name}' exceeds the context window of model {self.model} "
                f"(about {prompt} prompt tokens; the context holds {context}, {source}"
                + (f"; {trimmed} first" if trimmed else "")
                + ").",
                hint="Shorten the prompt or raise context_tokens (and the server's context size).",
            )
        return req, max(64, min(cap, context - prompt)), trimmed

    # -- the call --------------------------------------------------------------------------------
    async def complete(self, request: CompletionRequest) -> Completion:
        kwargs, cap, trimmed = self._prepare(request, await self.context_window())
        attempts = 1 + self.cfg.retries
        start = time.monotonic()
        last: _Retryable | None = None
        for attempt in range(attempts):
            try:
                completion, cost = await self._attempt(kwargs, request, cap)
            except _Retryable as exc:
                last = exc
            except BackendError:
                self.ledger.add_failure(self.name, self.model, attempt)
                raise
            else:
                completion.retries = attempt
                completion.latency_s = time.monotonic() - start
                completion.trimmed = trimmed
                self.ledger.add(completion, cost)
                return completion
            if attempt + 1 < attempts:
                await asyncio.sleep(self._delay(attempt, last.wait_hint))
        assert last is not None
        self.ledger.add_failure(self.name, self.model, attempts - 1)
        raise self._final_error(last, attempts)

    async def _attempt(
        self, kwargs: dict[str, Any], request: CompletionRequest, cap: int
    ) -> tuple[Completion, Decimal]:
        """One HTTP exchange: a completion, a _Retryable failure, or a final BackendError."""
        try:
            async with self.limiter:
                if self.stream:
                    return await self._streamed(kwargs, request, cap)
                response = await self._client().chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except openai.APITimeoutError:
            raise _Retryable("timeout", f"no answer within {self.cfg.timeout_s:g} s") from None
        except openai.APIConnectionError as exc:
            raise _connection_failure(exc) from None
        except (json.JSONDecodeError, openai.APIResponseValidationError, pydantic.ValidationError) as exc:
            raise _Retryable("malformed", f"the reply is not valid JSON ({type(exc).__name__})") from None
        except openai.APIError as exc:  # an error event in the middle of a stream
            raise self._stream_error(exc) from None
        return self._parse(response, request, cap)

    async def _streamed(
        self, kwargs: dict[str, Any], request: CompletionRequest, cap: int
    ) -> tuple[Completion, Decimal]:
        """One streamed exchange, stopped early when the reply runs away."""
        client = self._client()
        kw = {**kwargs, "stream": True}
        if self._stream_usage:
            kw["stream_options"] = {"include_usage": True}
        try:
            stream = await client.chat.completions.create(**kw)
        except openai.APIStatusError as exc:
            if not (self._stream_usage and exc.status_code in (400, 422) and "stream_options" in str(exc)):
                raise
            self._stream_usage = False  # a server that rejects the option: ask without it from now on
            kw.pop("stream_options")
            stream = await client.chat.completions.create(**kw)
        if "json" in stream.response.headers.get("content-type", ""):  # it answered without streaming
            body = await stream.response.aread()
            await stream.close()
            return self._parse(ChatCompletion.model_validate(json.loads(body)), request, cap)
        acc = _StreamedReply(cap, current_call())
        try:
            async with asyncio.timeout(self.cfg.timeout_s):
                async for chunk in stream:
                    if acc.add(chunk):
                        break
        except TimeoutError:
            if not acc.pieces:
                raise _Retryable("timeout", f"no answer within {self.cfg.timeout_s:g} s") from None
            acc.stop(f"stopped: the reply had not ended after {self.cfg.timeout_s:g} s (timeout_s)")
        finally:
            await stream.close()
        return self._finish_stream(acc, request, cap)

    def _finish_stream(
        self, acc: _StreamedReply, request: CompletionRequest, cap: int
    ) -> tuple[Completion, Decimal]:
        if not acc.saw_choice:
            raise _Retryable("empty", "the reply has no choices")
        calls = self._tool_calls([(c["id"], c["name"], "".join(c["args"])) for c in acc.calls.values()])
        text = "".join(acc.text)
        finish = "length" if acc.stopped else acc.finish
        if not text and not calls:
            self._empty(finish)
        usage = acc.usage
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0) if usage is not None else 0
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0) if usage is not None else 0
        if usage is None or acc.stopped:  # no final usage chunk: estimate what the server spent
            prompt = prompt or estimate_tokens(request)
            completion_tokens = max(completion_tokens, acc.pieces)
        return self._completion(text, calls, prompt, completion_tokens, finish, cap, acc.stopped)

    def _completion(
        self, text: str, calls: list[ToolCall], prompt: int, completion_tokens: int,
        finish: str | None, cap: int, stopped: str | None,
    ) -> tuple[Completion, Decimal]:
        """The Completion and its cost; a reply stopped early or cut at `cap` says why."""
        cost = cost_of(prompt, completion_tokens, self.cfg.price_in_per_mtok, self.cfg.price_out_per_mtok)
        cut = stopped or (f"cut off at max_tokens {cap}" if finish == "length" else None)
        completion = Completion(
            text=text, tool_calls=calls, prompt_tokens=prompt, completion_tokens=completion_tokens,
            cost_usd=float(cost), backend=self.name, model=self.model, finish_reason=finish, cut_reason=cut,
        )
        return completion, cost

    def _delay(self, attempt: int, wait_hint: float | None) -> float:
        """Exponential backoff with full jitter; never shorter than what the server asked for."""
        jitter = self._rng.uniform(0.0, min(self.backoff_max_s, self.backoff_base_s * (2**attempt)))
        if wait_hint is not None:
            return max(min(wait_hint, self.retry_after_max_s), jitter)
        return jitter

    def _parse(self, response: Any, request: CompletionRequest, cap: int) -> tuple[Completion, Decimal]:
        choices = getattr(response, "choices", None)
        if not choices:
            raise _Retryable("empty", "the reply has no choices")
        choice = choices[0]
        msg = choice.message
        raw_calls = []
        for tc in msg.tool_calls or []:
            fn = getattr(tc, "function", None)
            if fn is not None:
                raw_calls.append((tc.id, fn.name, fn.arguments or ""))
        calls = self._tool_calls(raw_calls)
        text = msg.content or ""
        if not text and not calls:
            self._empty(choice.finish_reason)
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return self._completion(text, calls, prompt, completion_tokens, choice.finish_reason, cap, None)

    def _tool_calls(self, raw: list[tuple[str | None, str, str]]) -> list[ToolCall]:
        """Tool calls from (id, name, JSON arguments); arguments that are not a JSON object fail."""
        calls: list[ToolCall] = []
        for call_id, name, args_text in raw:
            try:
                args = json.loads(args_text) if args_text.strip() else {}
            except json.JSONDecodeError:
                raise MalformedReply(
                    f"Backend '{self.name}' (model {self.model}) called tool '{name}' with arguments "
                    "that are not valid JSON.",
                    hint=f"Arguments received: {args_text[:200]!r}",
                ) from None
            if not isinstance(args, dict):
                raise MalformedReply(
                    f"Backend '{self.name}' (model {self.model}) called tool '{name}' with arguments "
                    "that are not a JSON object.",
                    hint=f"Arguments received: {args_text[:200]!r}",
                )
            call_id = call_id or f"call_{len(calls)}"
            calls.append(ToolCall(id=call_id, name=name, arguments=args, raw_arguments=args_text))
        return calls

    def _empty(self, reason: str | None) -> None:
        """Raise for a reply with neither text nor tool calls."""
        if reason == "length":  # the same request would run out of tokens again
            raise MalformedReply(
                f"Backend '{self.name}' (model {self.model}) returned an empty reply: it ran out of "
                "tokens (finish_reason=length).",
                hint="Raise max_tokens (reasoning models spend tokens before they answer).",
            )
        detail = "the reply is empty" + (f" (finish_reason={reason})" if reason else "")
        raise _Retryable("empty", detail)

    def _stream_error(self, exc: openai.APIError) -> _Retryable:
        """An error event inside a stream: a context overflow is final, anything else is retried."""
        message = str(exc.message)[:300]
        if any(marker in message.lower() for marker in _CONTEXT_MARKERS):
            raise self._overflow(message)
        return _Retryable("server", f"the server reported an error mid-stream ({message})")

    def _status_error(self, exc: openai.APIStatusError) -> _Retryable:
        """Map an HTTP error: raise the final error, or return a retryable failure."""
        status = exc.status_code
        server_msg = _server_message(exc)
        if status == 429:
            return _Retryable(
                "rate_limit", "HTTP 429 (rate limited)", retry_after_seconds(exc.response.headers)
            )
        if status >= 500 or status in (408, 409):
            return _Retryable("server", f"HTTP {status}", retry_after_seconds(exc.response.headers))
        if status in (401, 403):
            env = self.cfg.api_key_env
            who = f"the API key from {env}" if env else "the request (no api_key_env is configured)"
            raise BackendAuthError(
                f"Backend '{self.name}' at {self.base_url} rejected {who} (HTTP {status}).",
                hint=(f"Check the key in {env}. " if env else f"Set api_key_env in [backends.{self.name}]. ")
                + f"Server said: {server_msg}",
            )
        text = f"{exc.code or ''} {server_msg}".lower()
        if status == 413 or any(marker in text for marker in _CONTEXT_MARKERS):
            raise self._overflow(server_msg)
        if status == 404:
            raise ModelNotFound(
                f"Backend '{self.name}' at {self.base_url} does not serve model '{self.model}'.",
                hint=f"Check `model` in [backends.{self.name}] (veriloop doctor lists reachability). "
                f"Server said: {server_msg}",
            )
        raise BackendError(
            f"Backend '{self.name}' refused the request with HTTP {status}.",
            hint=f"Server said: {server_msg}",
        )

    def _overflow(self, server_msg: str) -> ContextTooLong:
        numbers = context_overflow_numbers(server_msg)
        size = (
            f" ({numbers[0]} prompt tokens; the context holds {numbers[1]})"
            if numbers
            else (f" (the context holds {self._window})" if self._window else "")
        )
        return ContextTooLong(
            f"The request to backend '{self.name}' exceeds the context window of model "
            f"{self.model}{size}.",
            hint="Shorten the prompt, lower max_tokens, or start the server with a larger context "
            f"(llama.cpp: --ctx-size). Server said: {server_msg}",
        )

    def _final_error(self, last: _Retryable, attempts: int) -> BackendError:
        tries = f"{attempts} attempt" + ("s" if attempts != 1 else "")
        hint_net = (
            f"Check that the server at {self.base_url} is running and reachable; `veriloop doctor` "
            "probes every backend."
        )
        if last.kind in ("timeout", "connection"):
            return BackendUnreachable(
                f"Backend '{self.name}' at {self.base_url} did not answer after {tries} ({last.detail}).",
                hint=hint_net,
            )
        if last.kind in ("malformed", "empty"):
            return MalformedReply(
                f"Backend '{self.name}' (model {self.model}) gave no usable reply after {tries}: "
                f"{last.detail}.",
                hint="The endpoint may not be OpenAI-compatible, or the model ran out of max_tokens.",
            )
        if last.kind == "rate_limit":
            return BackendError(
                f"Backend '{self.name}' kept rate-limiting the request (HTTP 429) after {tries}.",
                hint=f"Lower max_concurrency or raise retries in [backends.{self.name}].",
            )
        return BackendError(
            f"Backend '{self.name}' at {self.base_url} kept failing ({last.detail}) after {tries}.",
            hint=hint_net,
        )


async def read_context_window(client: openai.AsyncOpenAI, base_url: str, model: str) -> int | None:
    """The context window a server reports, or None: llama.cpp's GET /props (per-slot
    default_generation_settings.n_ctx, else a top-level n_ctx), then vLLM's max_model_len in
    GET /models. Short timeouts; an answer without a window means "unknown" (None), and only an
    unreachable server raises (openai.APIConnectionError), so that the caller asks again later."""
    quick = client.with_options(timeout=5.0)
    root = re.sub(r"/v1/?$", "", base_url.rstrip("/"))
    try:
        props = await quick.get(f"{root}/props", cast_to=object)
    except openai.APIConnectionError:
        raise
    except Exception:  # noqa: BLE001 - not llama.cpp, or /props is off: try the next source
        props = None
    if isinstance(props, dict):
        settings = props.get("default_generation_settings")
        per_slot = settings.get("n_ctx") if isinstance(settings, dict) else None
        for value in (per_slot, props.get("n_ctx")):
            if isinstance(value, int) and value > 0:
                return value
    try:
        listed = await quick.get("/models", cast_to=object)
    except openai.APIConnectionError:
        raise
    except Exception:  # noqa: BLE001 - no model list: the window stays unknown
        return None
    rows = listed.get("data") if isinstance(listed, dict) else None
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("id") == model:
            value = row.get("max_model_len")
            return value if isinstance(value, int) and value > 0 else None
    return None


class _StreamedReply:
    """The pieces of one streamed reply as they arrive, and the runaway watch over its text."""

    def __init__(self, cap: int, progress: Any) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, Any]] = {}
        self.finish: str | None = None
        self.usage: Any = None
        self.saw_choice = False
        self.pieces = 0
        self.stopped: str | None = None
        self.watch = RunawayWatch(cap)
        self.progress = progress

    def add(self, chunk: Any) -> bool:
        """Take one chunk; True when the reply should be stopped here."""
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for choice in getattr(chunk, "choices", None) or []:
            if getattr(choice, "index", 0):
                continue
            self.saw_choice = True
            delta = choice.delta
            piece = getattr(delta, "content", None) or ""
            if piece:
                self.text.append(piece)
                self.pieces += 1
                if self.progress is not None:
                    self.progress.tokens += 1
                reason = self.watch.feed(piece)
                if reason:
                    self.stop(reason)
            for tc in getattr(delta, "tool_calls", None) or []:
                slot = self.calls.setdefault(tc.index, {"id": None, "name": "", "args": []})
                slot["id"] = tc.id or slot["id"]
                fn = getattr(tc, "function", None)
                if fn is not None:
                    slot["name"] = fn.name or slot["name"]
                    if fn.arguments:
                        slot["args"].append(fn.arguments)
            if choice.finish_reason:
                self.finish = choice.finish_reason
        return self.stopped is not None

    def stop(self, reason: str) -> None:
        self.stopped = reason


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        if body.get("message"):
            return str(body["message"])[:300]
    return str(exc.message)[:300]


def _connection_failure(exc: openai.APIConnectionError) -> _Retryable:
    cause = exc.__cause__
    name = type(cause).__name__ if cause is not None else ""
    if name == "RemoteProtocolError":
        return _Retryable("malformed", "the connection closed in the middle of the reply")
    if "Timeout" in name:
        return _Retryable("timeout", "the connection timed out")
    if name == "ConnectError":
        return _Retryable("connection", "connection refused")
    return _Retryable("connection", f"connection error: {cause or exc}")
