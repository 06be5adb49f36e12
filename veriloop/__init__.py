"""veriloop: multi-agent LLM design automation with a verifier in every loop."""

__version__ = "0.1.0"
