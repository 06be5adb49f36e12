# The README's two commands: `make demo` (set up + run the main job offline) and `make test`.
.PHONY: setup demo test lint

setup:
	bash scripts/setup.sh

demo: setup
	HF_HUB_OFFLINE=1 .venv/bin/veriloop design "8-bit up counter with synchronous active-high reset and enable" --out out/demo

test: setup
	HF_HUB_OFFLINE=1 .venv/bin/python -m pytest
	.venv/bin/ruff check veriloop tests bench
	.venv/bin/mypy

lint:
	.venv/bin/ruff check veriloop tests bench
	.venv/bin/mypy
