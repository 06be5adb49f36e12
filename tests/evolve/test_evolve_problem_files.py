"""Problem files are read on the host without following links out of their directory (issue 12, item 6)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from veriloop.errors import InputError
from veriloop.evolve.problem import load_problem
from veriloop.evolve.prompts import Templates

from .helpers_evolve import copy_problem

SECRET = "VERILOOP_TEST_SECRET=sk-do-not-leak"


def _outside(tmp_path: Path) -> Path:
    """A directory next to the problem holding 'secret' files a link could point at."""
    out = tmp_path / "outside"
    out.mkdir()
    (out / "secret.py").write_text(f"# {SECRET}\nx = 1\n", encoding="utf-8")
    (out / "problem.toml").write_text(f'description = "{SECRET}"\n', encoding="utf-8")
    (out / "config.yaml").write_text(f"prompt:\n  system_message: '{SECRET}'\n", encoding="utf-8")
    (out / "evaluator.py").write_text(
        f"# {SECRET}\ndef evaluate(p):\n    return {{'combined_score': 1.0}}\n", encoding="utf-8"
    )
    (out / "system.tmpl").write_text(SECRET, encoding="utf-8")
    return out


def _replace_with_link(path: Path, target: str | Path) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)


def _refused(d: Path, needle: str) -> InputError:
    with pytest.raises(InputError) as exc:
        load_problem(d)
    msg = exc.value.message
    assert needle in msg and "does not read it" in msg and SECRET not in msg, msg
    assert msg.count(". ") == 0 and msg.endswith("."), f"not one sentence: {msg}"
    return exc.value


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("initial_program.py", "/proc/self/environ"),
        ("initial_program.py", "OUT/secret.py"),
        ("initial_program.py", "../outside/secret.py"),
        ("initial_program.py", "sub/../../outside/secret.py"),
        ("evaluator.py", "OUT/evaluator.py"),
        ("evaluator.py", "/proc/self/environ"),
        ("problem.toml", "OUT/problem.toml"),
        ("problem.toml", "/proc/self/environ"),
        ("config.yaml", "OUT/config.yaml"),
    ],
)
def test_link_out_of_the_problem_dir_is_refused(tmp_path: Path, name: str, target: str) -> None:
    out = _outside(tmp_path)
    d = copy_problem(tmp_path)
    (d / "sub").mkdir()
    _replace_with_link(d / name, target.replace("OUT", str(out)))
    os.environ["VERILOOP_TEST_SECRET"] = "sk-do-not-leak"
    try:
        _refused(d, f"{name} leads out of the problem directory")
    finally:
        os.environ.pop("VERILOOP_TEST_SECRET", None)


def test_linked_parent_directory_is_refused(tmp_path: Path) -> None:
    """initial_program.py -> src/prog.py where src is a link to a directory outside."""
    out = _outside(tmp_path)
    d = copy_problem(tmp_path)
    (d / "src").symlink_to(out)
    _replace_with_link(d / "initial_program.py", "src/secret.py")
    _refused(d, "initial_program.py leads out of the problem directory")


def test_linked_templates_dir_is_refused(tmp_path: Path) -> None:
    out = _outside(tmp_path)
    d = copy_problem(tmp_path)
    (d / "templates").symlink_to(out)
    _refused(d, "templates/system.tmpl leads out of the problem directory")
    # and a single template linked out of a real templates dir
    (d / "templates").unlink()
    (d / "templates").mkdir()
    (d / "templates" / "system.tmpl").symlink_to(out / "system.tmpl")
    _refused(d, "templates/system.tmpl leads out of the problem directory")


@pytest.mark.parametrize("name", ["initial_program.py", "problem.toml", "evaluator.py", "config.yaml"])
def test_fifo_is_refused_without_hanging(tmp_path: Path, name: str) -> None:
    d = copy_problem(tmp_path)
    if (d / name).exists():
        (d / name).unlink()
    os.mkfifo(d / name)
    result: dict[str, BaseException] = {}

    def load() -> None:
        try:
            load_problem(d)
        except BaseException as exc:  # noqa: BLE001
            result["exc"] = exc

    t = threading.Thread(target=load, daemon=True)
    t.start()
    t.join(10)
    if t.is_alive():  # unblock the reader so the test process can exit, then fail
        fd = os.open(d / name, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail(f"load_problem hung on a fifo named {name}")
    exc = result.get("exc")
    assert isinstance(exc, InputError), exc
    assert f"{name} is a fifo" in exc.message


def test_device_is_refused(tmp_path: Path) -> None:
    d = copy_problem(tmp_path)
    (d / "problem.toml").unlink()
    try:
        os.mknod(d / "problem.toml", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pytest.skip("cannot create a device node here")
    _refused(d, "problem.toml is a character device")


def test_links_inside_the_problem_dir_are_allowed(tmp_path: Path) -> None:
    d = copy_problem(tmp_path)
    (d / "src").mkdir()
    (d / "initial_program.py").rename(d / "src" / "prog.py")
    (d / "initial_program.py").symlink_to("src/prog.py")
    (d / "problem.toml").rename(d / "src" / "settings.toml")
    (d / "problem.toml").symlink_to(d / "src" / "settings.toml")  # absolute, but inside
    (d / "templates").mkdir()
    (d / "templates" / "system.tmpl").write_text("SYSTEM $language", encoding="utf-8")
    p = load_problem(d)
    assert "def choose" in p.initial_code and p.evolution.num_islands == 2
    assert Templates(problem=p).render("system.tmpl", {"language": "py"}) == "SYSTEM py"


def test_problem_dir_given_through_a_link_is_fine(tmp_path: Path) -> None:
    """The directory the user names may itself be a link; its files are judged against its real path."""
    d = copy_problem(tmp_path)
    link = tmp_path / "alias"
    link.symlink_to(d)
    p = load_problem(link)
    assert p.path == d.resolve() and "def choose" in p.initial_code
