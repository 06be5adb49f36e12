"""Fitting a prompt into a context window: estimate its size, then leave out what matters least.

    trimmed, note = trim_to_fit(request, budget_tokens)

Order of what goes, until the estimate fits the budget:

1. the request's `droppable` parts (retrieved library entries, lessons, docs), in the order the
   request lists them, each replaced by its short `replacement`;
2. older tool-loop exchanges (an assistant message with tool calls and the tool results that
   answer it), oldest first; the latest exchange stays, so the model still sees its last result.

System messages, the user's own messages and plain assistant replies are never touched; if the
prompt still does not fit, the caller decides (lower the reply cap, or refuse before the call).
Nothing here reads the prompt's wording: the parts to drop are marked by the agent that wrote them.
"""

from __future__ import annotations

import json

from veriloop.llm.contract import CompletionRequest, Message, ToolSpec


def estimate_messages(messages: list[Message], tools: list[ToolSpec] | None = None) -> int:
    """A generous estimate of prompt tokens (3 characters a token, 4 per message)."""
    chars = sum(
        len(m.content or "") + sum(len(t.raw_arguments or "") for t in m.tool_calls) for m in messages
    )
    chars += sum(len(json.dumps(t.parameters)) + len(t.description) for t in tools or [])
    return chars // 3 + 4 * len(messages)


def estimate_tokens(req: CompletionRequest) -> int:
    """A generous estimate of a request's prompt tokens (3 characters a token, 4 per message)."""
    return estimate_messages(req.messages, req.tools)


def tool_exchanges(messages: list[Message]) -> list[tuple[int, int]]:
    """[start, end) index ranges of tool-loop exchanges: an assistant message with tool calls and
    the tool messages right after it."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(messages):
        m = messages[i]
        if m.role == "assistant" and m.tool_calls:
            j = i + 1
            while j < len(messages) and messages[j].role == "tool":
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def trim_to_fit(req: CompletionRequest, budget: int) -> tuple[CompletionRequest, str | None]:
    """The request with droppable parts, then older tool exchanges, left out until its estimated
    prompt is at most `budget` tokens (or nothing more may go); and a note saying what went."""
    if estimate_tokens(req) <= budget:
        return req, None
    messages = [m.model_copy() for m in req.messages]
    parts = chars = 0
    for d in req.droppable:
        if estimate_messages(messages, req.tools) <= budget:
            break
        if not d.text:
            continue
        for m in messages:
            if m.content and d.text in m.content:
                m.content = m.content.replace(d.text, d.replacement, 1)
                parts += 1
                chars += len(d.text)
                break
    exchanges = 0
    while estimate_messages(messages, req.tools) > budget:
        spans = tool_exchanges(messages)
        if len(spans) <= 1:
            break
        start, end = spans[0]
        del messages[start:end]
        exchanges += 1
    if not parts and not exchanges:
        return req, None
    said = []
    if parts:
        said.append(f"{parts} retrieved part{'s' if parts != 1 else ''} ({chars:,} characters)")
    if exchanges:
        said.append(f"{exchanges} older tool exchange{'s' if exchanges != 1 else ''}")
    return req.model_copy(update={"messages": messages}), "left out " + " and ".join(said)
