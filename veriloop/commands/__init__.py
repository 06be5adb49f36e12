"""CLI command modules: each parses arguments, calls one package function, renders the result."""
