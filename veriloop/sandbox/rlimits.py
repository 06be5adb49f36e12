"""The `rlimits` fallback: rlimits + own session + process-group kill, WITHOUT namespace isolation.

Jobs still never run as root: when veriloop is root they run as the sandbox user (`identity.py`),
in a job dir handed over to that user.

Used only where bubblewrap cannot run. The job sees the host filesystem and network (it runs in
a fresh temp dir as cwd, with a cleared environment), so every result says `contained=False` and
`veriloop doctor` warns about it. Processes that leave the job's session can outlive it unless a
pids cgroup is available (then they are killed with the group).
"""

from __future__ import annotations

from veriloop.sandbox import cgroup, identity, jobdir
from veriloop.sandbox.contract import Job, JobResult, Sandbox, base_env
from veriloop.sandbox.process import run_process


class RlimitsSandbox(Sandbox):
    """Resource limits only; not contained."""

    name = "rlimits"
    contained = False

    def run(self, job: Job) -> JobResult:
        host_dir = jobdir.create(job.files)
        try:
            env = base_env(job.env)
            env["HOME"] = env["TMPDIR"] = str(host_dir)
            identity.hand_over(str(host_dir))
            with self._gate:
                group = cgroup.open_job_cgroup(job.limits.nproc + 8)
                try:
                    raw = run_process(
                        [*identity.drop_argv(), *job.argv],
                        env=env,
                        cwd=str(host_dir),
                        stdin=job.stdin,
                        limits=job.limits,
                        cgroup_procs=group.procs_files if group else (),
                        cpu_meter=group.cpu_s if group else None,
                        on_kill=group.kill_all if group else None,
                    )
                finally:
                    if group is not None:
                        group.close()
            files = jobdir.collect(host_dir, job.collect, job.limits.file_size_mb * 1024 * 1024)
        finally:
            jobdir.remove(host_dir)
        return raw.to_result(self.name, contained=False, files=files)
