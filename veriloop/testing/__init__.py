"""Test support shipped with the package: the scripted fake OpenAI-compatible HTTP server."""
