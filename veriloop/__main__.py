"""`python -m veriloop` runs the CLI."""

from veriloop.cli import main

main()
