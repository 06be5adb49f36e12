"""Reachability probe of an OpenAI-compatible backend (one short GET /models), for `veriloop doctor`."""

from __future__ import annotations

import openai

from veriloop.config import BackendConfig
from veriloop.llm.openai_backend import DEFAULT_BASE_URL


def probe_openai(cfg: BackendConfig, timeout_s: float = 2.0) -> tuple[bool, str]:
    """(ok, one-line reason): key present, endpoint answers, and it lists the model (when it lists any)."""
    url = cfg.base_url or DEFAULT_BASE_URL
    if cfg.api_key_env and not cfg.api_key():
        return False, f"API key variable {cfg.api_key_env} is not set"
    client = openai.OpenAI(
        base_url=url, api_key=cfg.api_key() or "not-needed", max_retries=0, timeout=timeout_s
    )
    try:
        models = [m.id for m in client.models.list().data]
    except openai.AuthenticationError:
        return False, f"{url} rejected the API key from {cfg.api_key_env or '(no api_key_env)'}"
    except openai.PermissionDeniedError:
        return False, f"{url} refused access (HTTP 403) with the key from {cfg.api_key_env}"
    except openai.APITimeoutError:
        return False, f"{url} did not answer within {timeout_s:g} s"
    except openai.APIConnectionError:
        return False, f"{url} is unreachable (connection failed)"
    except openai.APIStatusError as exc:
        # Some servers do not implement /models; an HTTP answer still proves the endpoint is up.
        return True, f"{url} answers (GET /models gave HTTP {exc.status_code}); model {cfg.model} not checked"
    except Exception as exc:  # a non-OpenAI server answering garbage
        return False, f"{url} answered something that is not an OpenAI API ({type(exc).__name__})"
    finally:
        client.close()
    if models and cfg.model not in models and f"{cfg.model}:latest" not in models:
        shown = ", ".join(models[:5]) + (" ..." if len(models) > 5 else "")
        return False, f"{url} answers but does not list model {cfg.model} (it serves: {shown})"
    return True, f"{url} answers; model {cfg.model} " + ("listed" if models else "(no model list)")
