"""Serve a GGUF model with xllamacpp on loopback (the process `veriloop llm serve` starts).

python -m veriloop.llm.local_server --model PATH --host 127.0.0.1 --port 8088 --ctx-size 32768 --threads 2

Not exercised by the test suite (it needs the 1.1 GB model); the argv is built and tested in
veriloop.llm.local. The field names follow llama.cpp's common_params as xllamacpp exposes them.
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
    args = ap.parse_args(argv)
    try:
        import xllamacpp as xlc  # type: ignore[import-not-found]
    except ImportError:
        print("xllamacpp is not installed: run `veriloop llm install`.", file=sys.stderr)
        return 2
    params = xlc.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.ctx_size
    params.cpuparams.n_threads = args.threads
    params.hostname = args.host
    params.port = args.port
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
