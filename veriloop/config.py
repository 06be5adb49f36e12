"""Settings: veriloop.toml (project dir, then user config dir) plus VERILOOP_* environment."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from veriloop.errors import ConfigError

CONFIG_NAME = "veriloop.toml"


class BackendConfig(BaseModel):
    """One named LLM backend. The key itself never lives here, only the env var that holds it."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["openai", "offline", "replay"] = "openai"
    base_url: str | None = None
    model: str = "offline"
    api_key_env: str | None = None
    max_concurrency: int = Field(default=8, ge=1, le=1024)
    timeout_s: float = Field(default=120.0, gt=0)
    retries: int = Field(default=4, ge=0, le=20)
    price_in_per_mtok: float = Field(default=0.0, ge=0)
    price_out_per_mtok: float = Field(default=0.0, ge=0)
    reasoning: bool = False
    """Reasoning models take `max_completion_tokens` instead of `max_tokens` and no temperature."""
    cassette: str | None = None
    """For kind=replay: the JSONL cassette to answer from."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    max_tokens: dict[str, int] = Field(default_factory=dict)
    """Reply caps for this backend by task ("design.testbench") or agent ("testbench"); they win
    over the top-level [max_tokens] table and the defaults in veriloop.llm.caps."""
    context_tokens: int | None = Field(default=None, ge=256)
    """The server's context window (e.g. llama.cpp's --ctx-size). Unset: read once from the server
    (llama.cpp's GET /props, vLLM's max_model_len in /v1/models), else unknown. Used to lower a
    reply's cap, to leave out droppable prompt parts and to refuse a clearly too long prompt."""
    stream: bool = True
    """kind=openai: stream replies, so that a runaway reply (the same lines over and over) is
    stopped early and reported like one cut off at max_tokens. false for servers that cannot."""

    def api_key(self) -> str | None:
        """The key, read from the environment at call time (never stored)."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class SandboxConfig(BaseModel):
    """Which sandbox runs jobs and its default limits."""

    model_config = ConfigDict(extra="forbid")

    backend: Literal["auto", "local", "docker", "rlimits", "gvisor"] = "auto"
    """gvisor: one gVisor (runsc) sandbox per job, for untrusted problem dirs; never picked by auto."""
    docker_image: str = "python:3.11-slim"
    wall_s: float = Field(default=60.0, gt=0)
    memory_mb: int = Field(default=2048, ge=16)
    output_bytes: int = Field(default=1 << 20, ge=1024)
    max_parallel: int = Field(default=0, ge=0)
    """0 means one job per CPU core."""


class KnowledgeConfig(BaseModel):
    """Where the knowledge store lives and how it embeds text."""

    model_config = ConfigDict(extra="forbid")

    store_dir: str | None = None
    """Defaults to <data_dir>/knowledge."""
    embedding: Literal["local", "openai"] = "local"
    embedding_backend: str | None = None
    """For embedding=openai: the backend (base_url, key) to call."""
    embedding_model: str = "text-embedding-3-small"
    enabled: bool = True


class AgentsConfig(BaseModel):
    """Per-agent backend choice for the design graph, and escalation."""

    model_config = ConfigDict(extra="forbid")

    planner: str | None = None
    architect: str | None = None
    generator: str | None = None
    verifier: str | None = None
    evaluator: str | None = None
    escalate_to: str | None = None
    escalate_after: int = Field(default=2, ge=1)
    plan_from_spec: bool = True
    """A spec that names the top module and lists its ports gets its plan read from it (no planner or
    architect call, no retrieved designs beside the spec's own names); false: always ask them."""
    testbench: Literal["auto", "scaffold", "llm"] = "auto"
    """Self-verified testbenches: "scaffold" = veriloop writes the harness from the design's ports and
    the verifier agent writes only a reference model of the spec; "llm" = the agent writes the whole
    testbench; "auto" = scaffold for model backends, the design library's testbenches offline."""
    referee: bool = False
    """Self-verified with a scaffolded testbench: at a mismatch, first ask whether the design or the
    agents' reference model departs from the spec, and rewrite the model if it does (one call per
    mismatch), and give the verdicts the signal table around the first mismatch. Off by default:
    not yet measured with a real model (see veriloop.agents.referee)."""


class Settings(BaseSettings):
    """The effective configuration of one veriloop invocation."""

    model_config = SettingsConfigDict(env_prefix="VERILOOP_", env_nested_delimiter="__", extra="forbid")

    data_dir: str = ".veriloop"
    default_backend: str = "offline"
    backends: dict[str, BackendConfig] = Field(default_factory=dict)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)
    agents: AgentsConfig = Field(default_factory=AgentsConfig)
    max_tokens: dict[str, int] = Field(default_factory=dict)
    """Reply caps (max_tokens sent with every request) by agent or task: planner, architect,
    generator, fix, testbench, evolve, single_shot (or a task name such as "design.testbench").
    Unset ones use the defaults in veriloop.llm.caps."""
    record: str | None = None
    """Append every LLM exchange of this invocation to this JSONL cassette (replay it with
    `--backend replay:PATH`)."""
    config_files: list[str] = Field(default_factory=list)
    """Which files this configuration was read from (filled in by load_settings)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the files, which arrive as init arguments.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _builtin_backends(self) -> Settings:
        offline = BackendConfig(kind="offline", model="offline", max_concurrency=64)
        self.backends.setdefault("offline", offline)
        return self

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).expanduser()

    @property
    def knowledge_path(self) -> Path:
        if self.knowledge.store_dir:
            return Path(self.knowledge.store_dir).expanduser()
        return self.data_path / "knowledge"

    def backend(self, name: str) -> BackendConfig:
        """The named backend; `replay:PATH` names a cassette directly."""
        if name.startswith("replay:"):
            return BackendConfig(kind="replay", model="replay", cassette=name.split(":", 1)[1])
        try:
            return self.backends[name]
        except KeyError:
            known = ", ".join(sorted(self.backends))
            raise ConfigError(
                f"Unknown backend '{name}'.",
                hint=f"Configured backends: {known}. Add [backends.{name}] to veriloop.toml.",
            ) from None

    def masked(self) -> dict[str, Any]:
        """The configuration as plain data, with any secret-looking value masked."""
        data = self.model_dump(mode="json")
        for cfg in data["backends"].values():
            env = cfg.get("api_key_env")
            cfg["api_key"] = ("set (masked)" if os.environ.get(env) else "not set") if env else "n/a"
        return data


def toml_literal(v: Any) -> str:
    """A Python value (bool, number, str, list, dict) written as a TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_literal(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {toml_literal(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "veriloop" / CONFIG_NAME


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of the key a validation error points at."""
    keys = [str(k) for k in loc if isinstance(k, str)]
    if not keys:
        return None
    lines = text.splitlines()
    start = 0
    if len(keys) > 1:
        header = re.compile(r"^\s*\[+\s*" + r"\s*\.\s*".join(re.escape(k) for k in keys[:-1]) + r"\s*\]+\s*$")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                break
    key = re.compile(r"^\s*" + re.escape(keys[-1]) + r"\s*=")
    for i in range(start, len(lines)):
        if key.match(lines[i]):
            return i + 1
    return start + 1 if start else None


def _in_file(data: dict[str, Any], loc: tuple[int | str, ...] | list[int | str]) -> bool:
    """Whether the key a validation error points at was set in the file (else it came from the env)."""
    node: Any = data
    for key in loc:
        if not isinstance(node, dict) or key not in node:
            # A missing-field error inside a table the file defines still belongs to the file.
            return isinstance(node, dict) and node is not data
        node = node[key]
    return True


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: malformed TOML: {exc}.", hint="Fix the line named above; nothing was changed."
        ) from None


def load_settings(config_file: Path | None = None, cwd: Path | None = None) -> Settings:
    """Read the first config file found (explicit, project dir, user dir) and the environment."""
    candidates = (
        [config_file]
        if config_file
        else [(cwd or Path.cwd()) / CONFIG_NAME, user_config_path()]
    )
    if config_file and not config_file.exists():
        raise ConfigError(f"Config file {config_file} does not exist.")
    data: dict[str, Any] = {}
    used: Path | None = None
    for path in candidates:
        if path.is_file():
            data = _read_toml(path)
            used = path
            break
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        if used is None or not _in_file(data, err["loc"]):
            env = "VERILOOP_" + "__".join(str(p).upper() for p in err["loc"])
            raise ConfigError(f"Invalid setting {env} in the environment: {err['msg']}.") from None
        line = _line_of(used.read_text(encoding="utf-8"), tuple(err["loc"]))
        at = f", line {line}" if line else ""
        raise ConfigError(
            f"{used}{at}: {where}: {err['msg']}.", hint="Fix the setting named above; nothing was changed."
        ) from None
    if used is not None:
        settings.config_files = [str(used)]
    return settings
