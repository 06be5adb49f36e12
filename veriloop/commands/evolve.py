"""CLI command 'evolve' (being built)."""


def evolve() -> None:
    """Being built."""
