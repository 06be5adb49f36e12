"""Proxy import of the candidate, run INSIDE the sandbox by the harness: the candidate's own process.

Stdlib only; shipped next to the harness as `_veriloop_proxy.py` and loaded by it (see `harness.py`
for where it fits). In proxy mode, when the evaluator imports the program file (spec_from_file_location
+ exec_module, import_module / __import__ with its directory on sys.path, a copy of the file,
runpy.run_path), `install_import_hooks` hands it a `ProxyModule`: the real program runs in a fresh
`python -I -S` process (`_SERVER`, the candidate process) that holds nothing but its two pipes and
runs under the same sandbox and limits. Attribute reads, calls and operators travel over the pipes
as pickles. What comes back is decoded by `_SafeUnpickler`, which admits builtin containers and
scalars and numpy arrays, scalars and dtypes only. Any other object stays in the candidate's process
as a `RemoteObject` whose methods are proxied. Exceptions come back as the same builtin class (with
the candidate's traceback as a note); SystemExit there is `CandidateExit` here, an ordinary error.

Also proxied: a module the candidate planted where it can write (its directory, the cwd, /tmp,
/dev/shm) for the evaluator to import later; compiled modules there are refused. A forked copy of
the evaluator cannot use a proxy made before the fork (it gets a clear error, noted as trouble).

In both modes an audit hook notes when the evaluator's process compiles candidate code itself (a
shared import, exec of the candidate's text): `REPORT["in_process"]`, which makes a run forgeable.
"""

from __future__ import annotations

import importlib
import os
import pickle
import struct
import subprocess
import sys
import threading
import types

MAX_REPLY = 256 << 20
"""Largest reply accepted from the candidate's process, in bytes."""

# The candidate process: a fresh `python -I -S -c _SERVER PROGRAM MODULE_NAME PATHS`. Requests and
# replies are 4-byte big-endian lengths + pickles on its own stdin/stdout (moved off fds 0 and 1,
# so its prints go to stderr). It unpickles what the trusted evaluator sends; what it sends back
# is plain data, and everything else is kept in a handle table and sent as a persistent id.
_SERVER = r"""
import sys, os, io, pickle, struct, traceback, operator, importlib.util
prog, modname, paths = sys.argv[1], sys.argv[2], sys.argv[3]
for _p in reversed(paths.split(os.pathsep)):
    if _p and _p not in sys.path:
        sys.path.insert(0, _p)
_in, _out = os.dup(0), os.dup(1)
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.dup2(2, 1)
sys.argv = [prog]
_pack, _unpack, _write, _read = struct.pack, struct.unpack, os.write, os.read
_handles = {}
_plain = (type(None), bool, int, float, complex, str, bytes, bytearray, list, tuple, dict, set, frozenset)
_globals_ok = ("builtins", "numpy")

def _persistent_id(obj):
    t = type(obj)
    if t in _plain:
        return None
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(obj, np.ndarray) and t is np.ndarray and not obj.dtype.hasobject:
            return None
        if isinstance(obj, np.dtype) or (isinstance(obj, np.generic) and not obj.dtype.hasobject):
            return None
    if isinstance(obj, type) or callable(obj):
        mod = getattr(obj, "__module__", None) or ""
        name = getattr(obj, "__name__", "")
        if mod.split(".")[0] in _globals_ok and getattr(sys.modules.get(mod), name, None) is obj:
            return None
    key = len(_handles) + 1
    _handles[key] = obj
    return ("ref", key, t.__name__, callable(obj))

def _persistent_load(pid):
    return _handles[pid[1]]

def _send(obj):
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=4)
    p.persistent_id = _persistent_id
    try:
        p.dump(obj)
    except Exception as exc:
        buf = io.BytesIO()
        why = "the candidate's value cannot be sent back: %s" % exc
        pickle.Pickler(buf, protocol=4).dump(("err", "TypeError", why, "", False))
    data = buf.getvalue()
    view = memoryview(_pack(">I", len(data)) + data)
    while view:
        view = view[_write(_out, view):]

def _recv_exact(n):
    got = b""
    while len(got) < n:
        chunk = _read(_in, n - len(got))
        if not chunk:
            os._exit(0)
        got += chunk
    return got

def _recv():
    n = _unpack(">I", _recv_exact(4))[0]
    u = pickle.Unpickler(io.BytesIO(_recv_exact(n)))
    u.persistent_load = _persistent_load
    return u.load()

_OPS = {"len": len, "iter": iter, "next": next, "bool": bool, "repr": repr, "str": str, "float": float,
        "int": int, "hash": hash, "dir": dir, "index": operator.index, "contains": operator.contains,
        "getitem": operator.getitem, "setitem": operator.setitem, "delitem": operator.delitem,
        "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
        "ge": operator.ge, "add": operator.add, "sub": operator.sub, "mul": operator.mul,
        "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
        "pow": operator.pow, "neg": operator.neg, "abs": abs, "round": round}

def _serve_one(req, mod):
    kind = req[0]
    if kind == "attrs":
        skip = ("__builtins__", "__loader__", "__spec__", "__cached__")
        return {k: v for k, v in vars(mod).items() if k not in skip}
    if kind == "getattr":
        return getattr(mod if req[1] is None else req[1], req[2])
    if kind == "setattr":
        setattr(mod if req[1] is None else req[1], req[2], req[3])
        return None
    if kind == "delattr":
        delattr(mod if req[1] is None else req[1], req[2])
        return None
    if kind == "call":
        return req[1](*req[2], **req[3])
    if kind == "op":
        return _OPS[req[1]](*req[2])
    raise ValueError("unknown request %r" % (kind,))

def _error(exc):
    tb, kept = exc.__traceback__, []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != "<string>":
            kept.append(tb)
        tb = tb.tb_next
    for a, b in zip(kept, kept[1:] + [None]):
        a.tb_next = b
    exc.__traceback__ = kept[0] if kept else None
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=12))[-4000:]
    return ("err", type(exc).__name__, str(exc)[:2000], tb, not isinstance(exc, Exception))

try:
    _spec = importlib.util.spec_from_file_location(modname, prog)
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[modname] = _mod
    _spec.loader.exec_module(_mod)
except BaseException as exc:
    _send(_error(exc))
    os._exit(0)
_send(("ok", None))
while True:
    try:
        _req = _recv()
    except BaseException as exc:
        _send(_error(exc))
        continue
    try:
        _value = _serve_one(_req, _mod)
    except BaseException as exc:
        _send(_error(exc))
        continue
    _send(("ok", _value))
"""

_SAFE_GLOBALS = {
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
}

REPORT: dict = {"imported": None, "in_process": False, "proxy_trouble": []}
"""What this stage saw of the candidate's import (goes into the payload)."""


class CandidateExit(Exception):
    """The candidate raised SystemExit / KeyboardInterrupt in its own process (an ordinary error here)."""


class CandidateProcessError(Exception):
    """The candidate's process died, broke the protocol or sent something that is not plain data."""

    status: int | None = None
    """The exit status of the candidate's process when it died (negative: killed by that signal)."""


class ProxyError(TypeError):
    """The evaluator handed the candidate something that cannot travel to the candidate's process."""


class _SafeUnpickler(pickle.Unpickler):
    """Decodes the candidate's replies: builtin data, numpy arrays/scalars/dtypes, remote handles."""

    def __init__(self, data: bytes, remote: _Remote) -> None:
        import io

        super().__init__(io.BytesIO(data))
        self._remote = remote

    def find_class(self, module: str, name: str):  # type: ignore[no-untyped-def]
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"the candidate sent a {module}.{name}, which is not plain data")
        return getattr(importlib.import_module(module), name)

    def persistent_load(self, pid):  # type: ignore[no-untyped-def]
        if (
            type(pid) is tuple
            and len(pid) == 4
            and pid[0] == "ref"
            and type(pid[1]) is int
            and type(pid[2]) is str
            and type(pid[3]) is bool
        ):
            return RemoteObject(self._remote, pid[1], pid[2][:100], pid[3])
        raise pickle.UnpicklingError("the candidate sent a malformed handle")


def _candidate_error(name: str, message: str, base: bool) -> Exception:
    """The exception the evaluator sees for one the candidate raised: the same builtin Exception
    class, CandidateExit for SystemExit/KeyboardInterrupt, CandidateProcessError for the rest."""
    import builtins

    if base:
        return CandidateExit(f"{name}: {message}")
    cls = getattr(builtins, name, None)
    if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
        try:
            return cls(message)
        except Exception:
            pass
    return CandidateProcessError(f"{name}: {message}")


class _Remote:
    """One candidate process and its two pipes; `request` is thread-safe."""

    def __init__(self, program_path: str, module_name: str) -> None:
        paths = os.pathsep.join(p for p in sys.path if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _SERVER, program_path, module_name, paths],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._w = self.proc.stdin.fileno()
        self._r = self.proc.stdout.fileno()
        self._lock = threading.Lock()
        self.broken = ""
        self.status: int | None = None
        _LIVE.append(self)
        self._reply()  # the import itself: raises what the program's import raised

    def _read_exact(self, n: int) -> bytes:
        got = b""
        while len(got) < n:
            chunk = os.read(self._r, n - len(got))
            if not chunk:
                code = self.proc.poll()
                if code is None:
                    try:
                        code = self.proc.wait(timeout=1.0)
                    except subprocess.TimeoutExpired:
                        code = None
                if code is not None and code < 0:
                    self.broken = f"the candidate's process died by signal {-code}"
                else:
                    self.broken = f"the candidate's process exited (status {code})"
                error = CandidateProcessError(self.broken)
                error.status = code
                self.status = code
                raise error
            got += chunk
        return got

    def _reply(self) -> object:
        size = struct.unpack(">I", self._read_exact(4))[0]
        if size > MAX_REPLY:
            self.broken = f"the candidate's process sent a reply of {size} bytes (more than {MAX_REPLY})"
            raise CandidateProcessError(self.broken)
        try:
            reply = _SafeUnpickler(self._read_exact(size), self).load()
        except CandidateProcessError:
            raise
        except Exception as bad:
            raise CandidateProcessError(f"unreadable reply from the candidate's process: {bad}") from None
        if type(reply) is not tuple or not reply or reply[0] not in ("ok", "err"):
            raise CandidateProcessError("the candidate's process broke the reply protocol")
        if reply[0] == "ok" and len(reply) == 2:
            return reply[1]
        if len(reply) != 5 or not all(type(x) is str for x in reply[1:4]):
            raise CandidateProcessError("the candidate's process broke the reply protocol")
        _, name, message, tb, base = reply
        error = _candidate_error(name, message, bool(base))
        if tb:
            error.add_note("in the candidate's process:\n" + tb.rstrip())
        raise error

    def request(self, req: tuple) -> object:
        with self._lock:
            if self.broken:
                error = CandidateProcessError(self.broken)
                error.status = self.status
                raise error
            import io

            buf = io.BytesIO()
            pickler = pickle.Pickler(buf, protocol=4)
            pickler.persistent_id = _proxy_id  # type: ignore[method-assign]
            try:
                pickler.dump(req)
            except Exception as exc:
                note = f"cannot send to the candidate's process: {type(exc).__name__}: {exc}"[:300]
                REPORT["proxy_trouble"].append(note)
                raise ProxyError(note) from None
            data = buf.getvalue()
            try:
                view = memoryview(struct.pack(">I", len(data)) + data)
                while view:
                    view = view[os.write(self._w, view) :]
            except OSError:
                self.broken = "the candidate's process is gone"
                self.kill()
                raise CandidateProcessError(self.broken) from None
            done = False
            try:
                value = self._reply()
                done = True
                return value
            except CandidateProcessError:
                self.broken = self.broken or "the candidate's process broke the protocol"
                done = True
                raise
            except Exception:
                done = True  # an error the candidate raised: the protocol is in step
                raise
            finally:
                if not done:  # interrupted mid-call (an alarm, KeyboardInterrupt): out of step for good
                    self.broken = "a call to the candidate's process was interrupted"
                    self.kill()

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(timeout=5)
        except Exception:
            pass


_LIVE: list[_Remote] = []


def _forked() -> None:
    """In a process forked from the evaluator (multiprocessing 'fork'): the candidate's pipes belong
    to the parent, so the proxy refuses instead of interleaving two conversations on them."""
    why = (
        "the candidate's proxy cannot be used from a forked copy of the evaluator "
        '(set candidate_import = "shared" for this problem)'
    )
    if not _LIVE:
        return  # e.g. the warm zygote forking a fresh child: no candidate process yet
    for remote in _LIVE:
        remote.broken = why
    _LIVE.clear()
    REPORT["proxy_trouble"].append(why)


os.register_at_fork(after_in_child=_forked)


def _proxy_id(obj: object) -> object:
    if type(obj) is RemoteObject:
        return ("ref", object.__getattribute__(obj, "_vl_id"))
    return None


def _forward(op: str):  # type: ignore[no-untyped-def]
    def method(self, *args):  # type: ignore[no-untyped-def]
        return object.__getattribute__(self, "_vl_remote").request(("op", op, (self, *args)))

    method.__name__ = f"__{op}__"
    return method


class RemoteObject:
    """A value that stays in the candidate's process; attribute reads, calls and operators go there."""

    __slots__ = ("_vl_remote", "_vl_id", "_vl_type", "_vl_callable")

    def __init__(self, remote: _Remote, ident: int, type_name: str, is_callable: bool) -> None:
        object.__setattr__(self, "_vl_remote", remote)
        object.__setattr__(self, "_vl_id", ident)
        object.__setattr__(self, "_vl_type", type_name)
        object.__setattr__(self, "_vl_callable", is_callable)

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return object.__getattribute__(self, "_vl_remote").request(("getattr", self, name))

    def __setattr__(self, name: str, value: object) -> None:
        object.__getattribute__(self, "_vl_remote").request(("setattr", self, name, value))

    def __delattr__(self, name: str) -> None:
        object.__getattribute__(self, "_vl_remote").request(("delattr", self, name))

    def __call__(self, *args: object, **kwargs: object) -> object:
        return object.__getattribute__(self, "_vl_remote").request(("call", self, args, kwargs))

    def __next__(self) -> object:
        return object.__getattribute__(self, "_vl_remote").request(("op", "next", (self,)))

    def __reduce__(self):  # type: ignore[no-untyped-def]
        raise TypeError("a handle to a value in the candidate's process cannot be copied")

    def __repr__(self) -> str:
        try:
            return str(object.__getattribute__(self, "_vl_remote").request(("op", "repr", (self,))))
        except Exception:
            return f"<{object.__getattribute__(self, '_vl_type')} in the candidate's process>"


_FORWARDED = "len iter bool str float int hash index contains getitem setitem delitem eq ne lt le gt ge"
_FORWARDED += " add sub mul truediv floordiv mod pow neg abs round"
for _op in _FORWARDED.split(" "):
    setattr(RemoteObject, f"__{_op}__", _forward(_op))
RemoteObject.__dir__ = _forward("dir")  # type: ignore[method-assign]


class ProxyModule(types.ModuleType):
    """The module the evaluator gets for the candidate in proxy mode."""

    def __getattr__(self, name: str) -> object:
        remote = self.__dict__.get("_vl_remote")
        if remote is None or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(name)
        value = remote.request(("getattr", None, name))
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: object) -> None:
        remote = self.__dict__.get("_vl_remote")
        if remote is not None and not (name.startswith("__") and name.endswith("__")):
            remote.request(("setattr", None, name, value))
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        remote = self.__dict__.get("_vl_remote")
        if remote is not None and not (name.startswith("__") and name.endswith("__")):
            remote.request(("delattr", None, name))
        super().__delattr__(name)


def _fill_proxy(module: types.ModuleType, path: str) -> None:
    """Turn `module` (about to be executed from the candidate's file) into a proxy module."""
    REPORT["imported"] = "proxy"
    remote = _Remote(path, module.__name__)
    attrs = remote.request(("attrs",))
    module.__class__ = ProxyModule
    module.__dict__["_vl_remote"] = remote
    if isinstance(attrs, dict):
        for key, val in attrs.items():
            if isinstance(key, str) and not (key.startswith("__") and key.endswith("__")):
                module.__dict__[key] = val
        doc = attrs.get("__doc__")
        module.__dict__["__doc__"] = doc if isinstance(doc, str) else None
    module.__dict__["__file__"] = path


class _CandidateFile:
    """Recognises candidate code: the program file, a copy of it, or any file in a place the
    candidate can write (its directory, the job's cwd, /tmp, /dev/shm), where it may have planted
    a module for the evaluator to import later."""

    def __init__(self, program_path: str, problem_dir: str) -> None:
        import tempfile

        self.real = os.path.realpath(program_path)
        self.trusted = os.path.realpath(problem_dir).rstrip(os.sep) + os.sep
        try:
            with open(program_path, "rb") as fh:
                self.data: bytes | None = fh.read()
        except OSError:
            self.data = None
        places = [
            os.path.dirname(self.real),
            os.getcwd(),
            tempfile.gettempdir(),
            "/tmp",
            "/var/tmp",
            "/dev/shm",
        ]
        self.writable = sorted({os.path.realpath(p) for p in places if p})

    def planted(self, path: str) -> bool:
        """`path` lies where the candidate can write (not in the read-only problem directory)."""
        real = os.path.realpath(path)
        if real.startswith(self.trusted) or not os.access(os.path.dirname(real), os.W_OK):
            return False
        return any(real == w or real.startswith(w.rstrip(os.sep) + os.sep) for w in self.writable)

    def same(self, path: object) -> bool:
        if not isinstance(path, str | bytes | os.PathLike):
            return False
        try:
            p = os.fsdecode(path)
            if os.path.realpath(p) == self.real or self.planted(p):
                return True
            if self.data is None or os.path.getsize(p) != len(self.data):
                return False
            with open(p, "rb") as fh:
                return fh.read() == self.data
        except (OSError, ValueError):
            return False

    def source_is(self, source: object) -> bool:
        if self.data is None or not isinstance(source, str | bytes | bytearray):
            return False
        data = source.encode("utf-8", "surrogateescape") if isinstance(source, str) else bytes(source)
        return data.strip() == self.data.strip()


def install_import_hooks(program_path: str, problem_dir: str, mode: str) -> None:
    """Proxy mode: candidate code (`_CandidateFile`) imports as a ProxyModule, compiled modules where
    the candidate can write are refused. Both modes: note when this process compiles candidate code."""
    cand = _CandidateFile(program_path, problem_dir)

    def audit(event: str, args: tuple) -> None:
        if event != "compile" or not args:
            return
        source, filename = args[0], (args[1] if len(args) > 1 else None)
        from_candidate = cand.source_is(source) or (
            isinstance(filename, str) and filename.startswith(os.sep) and cand.planted(filename)
        )
        if from_candidate:
            caller = sys._getframe(1).f_code
            if not (caller.co_name == "parse" and caller.co_filename.endswith(os.sep + "ast.py")):
                REPORT["in_process"] = True
                if REPORT["imported"] is None:
                    REPORT["imported"] = "shared"

    sys.addaudithook(audit)
    if mode != "proxy":
        return
    from importlib import machinery

    original = machinery.SourceFileLoader.exec_module

    def exec_module(loader, module):  # type: ignore[no-untyped-def]
        if cand.same(getattr(loader, "path", None)):
            _fill_proxy(module, os.fsdecode(loader.path))
            return None
        return original(loader, module)

    machinery.SourceFileLoader.exec_module = exec_module  # type: ignore[method-assign]

    def refuse_compiled(cls: type, method: str) -> None:
        inner = getattr(cls, method)

        def guarded(loader, arg):  # type: ignore[no-untyped-def]
            path = getattr(loader, "path", None)
            if isinstance(path, str) and cand.planted(path):
                raise ImportError(f"refused to load {path}: a compiled module where the candidate can write")
            return inner(loader, arg)

        setattr(cls, method, guarded)

    refuse_compiled(machinery.SourcelessFileLoader, "exec_module")
    refuse_compiled(machinery.ExtensionFileLoader, "create_module")
    import runpy

    original_run_path = runpy.run_path

    def run_path(path_name, init_globals=None, run_name=None):  # type: ignore[no-untyped-def]
        if cand.same(path_name):
            module = types.ModuleType(run_name or "<run_path>")
            _fill_proxy(module, os.fsdecode(path_name))
            return dict(module.__dict__)
        return original_run_path(path_name, init_globals, run_name)

    runpy.run_path = run_path


def stop_candidates() -> None:
    while _LIVE:
        _LIVE.pop().kill()
