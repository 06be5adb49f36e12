"""The `local` backend: one bubblewrap sandbox per job (`bwrap.py` says what it sees), rlimits, a pids cgroup.

A job's files are copied into its tmpfs job dir by bubblewrap itself (`--file` from a memfd), so no
host directory is shared with the job at all. Files to `collect` come back through a pipe: the
job's command runs under a tiny bash wrapper that, once the command has exited, writes a tar
stream of the requested paths to a descriptor the command itself never holds; veriloop reads only
regular files with the requested names from it, each capped (`collect.py`).

When the job's first process exits, bwrap's init exits and the kernel kills whatever is left in
the pid namespace: nothing outlives a job, and the job dir, /tmp and /dev/shm vanish with it.
"""

from __future__ import annotations

import contextlib
import os
import time

from veriloop.sandbox import bwrap, cgroup, collect
from veriloop.sandbox.contract import JOB_DIR, Job, JobResult, Sandbox, StagedJob, base_env
from veriloop.sandbox.process import RawRun, run_process

__all__ = ["JOB_DIR", "LocalSandbox"]



_COLLECT_LIST = "/.veriloop-collect"


def _collect_wrapper(argv: list[str], fd: int) -> list[str]:
    """bash runs the command with the collect descriptor closed; once it has exited, everything else
    in the sandbox is killed (nothing can swap a path under the check), and the requested paths that
    are regular files reached through no symlink go onto the descriptor as a tar stream."""
    script = (
        f'"$@" {fd}>&-; s=$?; kill -9 -1 2>/dev/null; cd {JOB_DIR} || exit $s\n'
        "while IFS= read -r -d '' n; do\n"
        "  p=; r=$n; bad=\n"
        '  while [ -n "$r" ]; do c=${r%%/*}; if [ "$c" = "$r" ]; then r=; else r=${r#*/}; fi\n'
        '    p=${p:+$p/}$c; if [ -L "$p" ]; then bad=1; break; fi; done\n'
        '  if [ -z "$bad" ] && [ -f "$n" ]; then printf \'%s\\0\' "$n"; fi\n'
        f"done < {_COLLECT_LIST} | tar -cf - --no-recursion --null -T - >&{fd} 2>/dev/null\n"
        "exit $s"
    )
    return ["/bin/bash", "--norc", "--noprofile", "-c", script, "veriloop-job", *argv]


class LocalSandbox(Sandbox):
    """bubblewrap + rlimits (+ a pids cgroup when the host allows): contained, no network by default."""

    name = "local"
    contained = True

    def run(self, job: Job) -> JobResult:
        files = {n: (d.encode() if isinstance(d, str) else d) for n, d in job.files.items()}
        for name in files:
            collect.safe_name(name)
        wanted = [collect.safe_name(n) for n in job.collect]
        read_only = {_COLLECT_LIST: b"".join(n.encode() + b"\0" for n in wanted)} if wanted else None
        raw: RawRun | None = None
        got: dict[str, bytes] = {}
        for attempt in range(3):
            raw, stream = self._attempt(job, files, wanted, read_only)
            if not _setup_failed(raw):
                got = collect.read_tar(stream, wanted, job.limits.file_size_mb * 1024 * 1024)
                break
            time.sleep(0.05 * (attempt + 1))  # transient (e.g. namespace limits under load): retry
        assert raw is not None
        if _setup_failed(raw):
            from veriloop.errors import SandboxError

            raise SandboxError(f"bubblewrap could not start the job: {raw.stderr.strip()}")
        return raw.to_result(self.name, contained=True, files=got)

    def run_staged(self, job: StagedJob) -> list[JobResult]:
        """In a warm sandbox of the process-wide pool (one per slot) when possible, else job by job."""
        from veriloop.sandbox import staged

        got = staged.run_warm(self.slots, job)
        return got if got is not None else super().run_staged(job)

    def _attempt(
        self, job: Job, files: dict[str, bytes], wanted: list[str], read_only: dict[str, bytes] | None
    ) -> tuple[RawRun, bytes]:
        collect_r, collect_w = os.pipe() if wanted else (-1, -1)
        argv = _collect_wrapper(job.argv, collect_w) if wanted else list(job.argv)
        spawn = bwrap.command(
            argv,
            limits=job.limits,
            env=base_env(job.env),
            files=files,
            ro_paths=job.ro_paths,
            network=job.network,
            read_only=read_only,
        )
        owned = [*spawn.fds, *([collect_w] if wanted else [])]

        def release() -> None:  # the job holds its own copies now; EOF on collect_r needs ours gone
            while owned:
                with contextlib.suppress(OSError):
                    os.close(owned.pop())
            spawn.fds = []

        try:
            with self._gate:
                group = cgroup.open_job_cgroup(job.limits.nproc + 8)
                try:
                    raw = run_process(
                        [*bwrap.launcher(job.limits, group is not None), *spawn.argv],
                        env={"PATH": "/usr/bin:/bin"},
                        cwd="/",
                        stdin=job.stdin,
                        limits=job.limits,
                        cgroup_procs=group.procs_files if group else (),
                        cpu_meter=group.cpu_s if group else None,
                        on_kill=group.kill_all if group else None,
                        bwrap_sync=True,
                        signal_from_exit_code=True,
                        pass_fds=list(owned),
                        after_spawn=release,
                        side_channel=collect_r if wanted else None,
                        side_cap=max(1, len(wanted)) * (job.limits.file_size_mb * 1024 * 1024 + 4096),
                    )
                    return raw, raw.side
                finally:
                    if group is not None:
                        group.close()
        finally:
            release()
            if collect_r >= 0:
                os.close(collect_r)


def _setup_failed(raw: RawRun) -> bool:
    """bwrap itself failed before running the command (its own message, nothing on stdout)."""
    return raw.exit_code == 1 and raw.stderr.startswith("bwrap:") and not raw.stdout and raw.killed is None


