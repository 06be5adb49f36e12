"""The OpenAI-compatible backend: async openai SDK, bounded concurrency, our own retries, costs."""

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
from veriloop.llm.ledger import UsageLedger, cost_of
from veriloop.llm.limiter import shared_limiter

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

    # -- request building ----------------------------------------------------------------------
    def build_kwargs(self, req: CompletionRequest) -> dict[str, Any]:
        """The keyword arguments sent to chat.completions.create (messages and tools only; never context)."""
        kw: dict[str, Any] = {"model": self.model, "messages": [message_to_openai(m) for m in req.messages]}
        if req.tools:
            kw["tools"] = [tool_to_openai(t) for t in req.tools]
        # Every request carries a reply cap: the caller's, else the configured/default one of its task.
        cap = req.max_tokens if req.max_tokens is not None else reply_cap(req.task, self.cfg.max_tokens)
        if self.cfg.context_tokens:
            cap = self._fit_context(req, cap, self.cfg.context_tokens)
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
        return kw

    def _fit_context(self, req: CompletionRequest, cap: int, context: int) -> int:
        """The reply cap lowered so that prompt + reply fit the configured context window; a prompt
        clearly too long (a quarter over, by the estimate) fails here, before the call."""
        prompt = estimate_tokens(req)
        if prompt > context * 1.25:
            raise ContextTooLong(
                f"The request to backend '{self.name}' exceeds the context window of model {self.model} "
                f"(about {prompt} prompt tokens; the context holds {context}).",
                hint="Shorten the prompt or raise context_tokens (and the server's context size).",
            )
        return max(64, min(cap, context - prompt))

    # -- the call --------------------------------------------------------------------------------
    async def complete(self, request: CompletionRequest) -> Completion:
        kwargs = self.build_kwargs(request)
        attempts = 1 + self.cfg.retries
        start = time.monotonic()
        last: _Retryable | None = None
        for attempt in range(attempts):
            try:
                completion, cost = await self._attempt(kwargs, request)
            except _Retryable as exc:
                last = exc
            except BackendError:
                self.ledger.add_failure(self.name, self.model, attempt)
                raise
            else:
                completion.retries = attempt
                completion.latency_s = time.monotonic() - start
                self.ledger.add(completion, cost)
                return completion
            if attempt + 1 < attempts:
                await asyncio.sleep(self._delay(attempt, last.wait_hint))
        assert last is not None
        self.ledger.add_failure(self.name, self.model, attempts - 1)
        raise self._final_error(last, attempts)

    async def _attempt(
        self, kwargs: dict[str, Any], request: CompletionRequest
    ) -> tuple[Completion, Decimal]:
        """One HTTP exchange: a completion, a _Retryable failure, or a final BackendError."""
        try:
            async with self.limiter:
                response = await self._client().chat.completions.create(**kwargs)
        except openai.APIStatusError as exc:
            raise self._status_error(exc) from None
        except openai.APITimeoutError:
            raise _Retryable("timeout", f"no answer within {self.cfg.timeout_s:g} s") from None
        except openai.APIConnectionError as exc:
            raise _connection_failure(exc) from None
        except (json.JSONDecodeError, openai.APIResponseValidationError) as exc:
            raise _Retryable("malformed", f"the reply is not valid JSON ({type(exc).__name__})") from None
        return self._parse(response, request)

    def _delay(self, attempt: int, wait_hint: float | None) -> float:
        """Exponential backoff with full jitter; never shorter than what the server asked for."""
        jitter = self._rng.uniform(0.0, min(self.backoff_max_s, self.backoff_base_s * (2**attempt)))
        if wait_hint is not None:
            return max(min(wait_hint, self.retry_after_max_s), jitter)
        return jitter

    def _parse(self, response: Any, request: CompletionRequest) -> tuple[Completion, Decimal]:
        choices = getattr(response, "choices", None)
        if not choices:
            raise _Retryable("empty", "the reply has no choices")
        choice = choices[0]
        msg = choice.message
        calls: list[ToolCall] = []
        for tc in msg.tool_calls or []:
            fn = getattr(tc, "function", None)
            if fn is None:
                continue
            raw = fn.arguments or ""
            try:
                args = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError:
                raise MalformedReply(
                    f"Backend '{self.name}' (model {self.model}) called tool '{fn.name}' with arguments "
                    "that are not valid JSON.",
                    hint=f"Arguments received: {raw[:200]!r}",
                ) from None
            if not isinstance(args, dict):
                raise MalformedReply(
                    f"Backend '{self.name}' (model {self.model}) called tool '{fn.name}' with arguments "
                    "that are not a JSON object.",
                    hint=f"Arguments received: {raw[:200]!r}",
                )
            calls.append(
                ToolCall(id=tc.id or f"call_{len(calls)}", name=fn.name, arguments=args, raw_arguments=raw)
            )
        text = msg.content or ""
        if not text and not calls:
            reason = choice.finish_reason
            if reason == "length":  # the same request would run out of tokens again
                raise MalformedReply(
                    f"Backend '{self.name}' (model {self.model}) returned an empty reply: it ran out of "
                    "tokens (finish_reason=length).",
                    hint="Raise max_tokens (reasoning models spend tokens before they answer).",
                )
            detail = "the reply is empty" + (f" (finish_reason={reason})" if reason else "")
            raise _Retryable("empty", detail)
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = cost_of(prompt, completion_tokens, self.cfg.price_in_per_mtok, self.cfg.price_out_per_mtok)
        return (
            Completion(
                text=text,
                tool_calls=calls,
                prompt_tokens=prompt,
                completion_tokens=completion_tokens,
                cost_usd=float(cost),
                backend=self.name,
                model=self.model,
                finish_reason=choice.finish_reason,
            ),
            cost,
        )

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
            numbers = context_overflow_numbers(server_msg)
            size = (
                f" ({numbers[0]} prompt tokens; the context holds {numbers[1]})"
                if numbers
                else (f" (the context holds {self.cfg.context_tokens})" if self.cfg.context_tokens else "")
            )
            raise ContextTooLong(
                f"The request to backend '{self.name}' exceeds the context window of model "
                f"{self.model}{size}.",
                hint="Shorten the prompt, lower max_tokens, or start the server with a larger context "
                f"(llama.cpp: --ctx-size). Server said: {server_msg}",
            )
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


def estimate_tokens(req: CompletionRequest) -> int:
    """A generous estimate of a request's prompt tokens (3 characters a token, 4 per message)."""
    chars = sum(
        len(m.content or "") + sum(len(t.raw_arguments or "") for t in m.tool_calls) for m in req.messages
    )
    chars += sum(len(json.dumps(t.parameters)) + len(t.description) for t in req.tools)
    return chars // 3 + 4 * len(req.messages)


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
