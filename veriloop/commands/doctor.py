"""CLI command 'doctor' (being built)."""


def doctor() -> None:
    """Being built."""
