# The README's two commands: `make demo` (set up + run the main job offline) and `make test`.
.PHONY: setup demo test lint

setup:
	bash scripts/setup.sh

demo: setup
	HF_HUB_OFFLINE=1 .venv/bin/veriloop design "8-bit up counter with synchronous active-high reset and enable" --out out/demo

# The local model (issue 14) is installed before pytest: tests/llm/test_llm_real_model.py runs veriloop
# against it and fails when it cannot be installed. `VERILOOP_REAL_MODEL=0 make test` skips both
# (developers without the model); VERILOOP_REAL_MODEL_DATA is the data dir that holds it.
REAL_MODEL_DATA ?= $(or $(VERILOOP_REAL_MODEL_DATA),$(CURDIR)/.veriloop)

test: setup
	@if [ "$${VERILOOP_REAL_MODEL:-1}" = 0 ]; then echo "test: VERILOOP_REAL_MODEL=0: no local model, its test is skipped"; \
	else VERILOOP_DATA_DIR="$(REAL_MODEL_DATA)" .venv/bin/veriloop llm install; fi
	VERILOOP_REAL_MODEL_DATA="$(REAL_MODEL_DATA)" HF_HUB_OFFLINE=1 .venv/bin/python -m pytest
	.venv/bin/ruff check veriloop tests bench
	.venv/bin/mypy

lint:
	.venv/bin/ruff check veriloop tests bench
	.venv/bin/mypy
