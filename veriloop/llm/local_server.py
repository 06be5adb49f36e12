"""Serve a GGUF model with xllamacpp on loopback (the process `veriloop llm serve` starts).

python -m veriloop.llm.local_server --model PATH --host 127.0.0.1 --port 8088 --ctx-size 32768 --threads 2

The field names are llama.cpp's common_params as xllamacpp 2026.10.11549 exposes them (checked
against the real wheel); the real-model test in tests/llm starts this launcher.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="veriloop.llm.local_server")
    ap.add_argument("--model", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8088)
    ap.add_argument("--ctx-size", type=int, default=32768)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=1, help="Requests decoded together (slots).")
    ap.add_argument("--alias", default="qwen2.5-coder-1.5b-instruct", help="The model name clients ask for.")
    args = ap.parse_args(argv)
    try:
        import xllamacpp as xlc  # type: ignore[import-not-found]
    except ImportError:
        print("xllamacpp is not installed: run `veriloop llm install`.", file=sys.stderr)
        return 2
    params = xlc.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.n_parallel = max(1, args.parallel)
    params.n_ctx = args.ctx_size * params.n_parallel  # each slot gets --ctx-size tokens
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.hostnames = [args.host]
    params.port = args.port
    params.endpoint_props = True  # GET /props tells clients the context window
    server = xlc.Server(params)  # serves /v1/chat/completions until the process ends
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"serving {args.model} on http://{args.host}:{args.port}/v1", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    del server
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
