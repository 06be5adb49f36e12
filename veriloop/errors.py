"""User-facing errors: each carries one clear sentence and an optional hint."""

from __future__ import annotations


class VeriloopError(Exception):
    """Base of every error a user should read; the CLI prints it without a traceback."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class ConfigError(VeriloopError):
    """veriloop.toml or VERILOOP_* settings are malformed or inconsistent."""

    exit_code = 2


class InputError(VeriloopError):
    """A file, spec, problem or argument given by the user cannot be used."""

    exit_code = 2


class ToolMissingError(VeriloopError):
    """A required external tool (iverilog, yosys, bwrap...) is not installed."""

    exit_code = 3


class SandboxError(VeriloopError):
    """The sandbox could not start a job (not: the job failed inside it)."""

    exit_code = 4


class BackendError(VeriloopError):
    """An LLM backend could not produce a usable completion."""

    exit_code = 5


class BackendUnreachable(BackendError):
    """The endpoint did not answer (connection refused, DNS, timeouts after retries)."""


class BackendAuthError(BackendError):
    """The endpoint rejected the API key."""


class ModelNotFound(BackendError):
    """The endpoint does not serve the configured model."""


class ContextTooLong(BackendError):
    """The request exceeds the model's context window."""


class MalformedReply(BackendError):
    """The endpoint answered with something that is not a usable completion."""


class CassetteMiss(BackendError):
    """A replay cassette has no entry for a request."""


class StoreError(VeriloopError):
    """A persistent store (runs, knowledge, results) is missing, locked or corrupt."""

    exit_code = 6


class BudgetExhausted(VeriloopError):
    """A dollar, iteration or time budget ran out."""

    exit_code = 7
