"""CLI command 'design' (being built)."""


def design() -> None:
    """Being built."""
