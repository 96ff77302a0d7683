"""Every `emops` subcommand, given bad arguments, ends with one error line, exit 2, nothing written.

The commands and their options are read from control.emops_cli's argparse tree, so a new
subcommand is driven here as soon as it is registered; a new option must be given
a kind below (test_every_option_has_a_kind says which). Each example is one
command line with exactly one bad argument (everything else valid or left at its
default), run in-process in a scratch working directory whose inventories are
the small test ones. Commands that start daemons or touch the twin must refuse
before acting: a tripwire turns any process start, exec or socket use (and memory
beyond a cap) into a failure, and the lab and monitor state live in scratch directories.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import resource
import socket
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testkit import LAB, ROOT, TINY

from control.emops_cli import build_parser, main

# --- the command tree ---------------------------------------------------------------------


def leaf_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator:
    """(words, parser) of every runnable subcommand."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for action in subs:
        for name, child in action.choices.items():
            yield from leaf_commands(child, (*path, name))


def arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def name_of(action: argparse.Action) -> str:
    return max(action.option_strings, key=len) if action.option_strings else action.dest


COMMANDS = {words: parser for words, parser in leaf_commands(build_parser())}

# --- what each argument is, what is valid for it and what is bad --------------------------

# By option (or positional) name, across commands: a new command reusing a name is covered.
KINDS = {
    "--inventory": "inventory",
    "--users": "count",
    "--packets": "count",
    "--shards": "count",
    "--sites": "count",
    "--runs": "count",
    "--customers": "count",
    "--member": "count",
    "--port": "port",
    "--think-time": "time",
    "--delay": "time",
    "--required-time": "time",
    "--timeout": "time",
    "--packet-size": "size",
    "--size": "size",
    "--link-rate": "rate",
    "--overhead": "ratio",
    "--headroom": "ratio",
    "--csv": "out-file",
    "--json": "out-file",
    "--chart": "out-file",
    "--out": "out-dir",
    "--prometheus-listen": "listen",
    "--alertmanager-listen": "listen",
    "--remote-write": "url",
    "--prometheus": "url",
    "--alertmanager": "url",
    "--target": "url",
    "--address": "address",
    "--campaigns": "in-dir",
    "dir": "in-dir",
    "--scenarios": "in-file",
    "--vault-password-file": "in-file",
    "--host": "name",
    "name": "name",
    "link": "name",
    "device": "name",
    "daemon": "name",
}
# Where a command deliberately accepts more than the kind's usual bad values.
OVERRIDES = {
    # a broken inventory must not stop a clean-up: only a path that is no directory is refused
    ("lab", "down", "--inventory"): "in-dir",
}

AR = "\u0661\u0660"  # Arabic-Indic "10": int() and float() accept it
BAD = {
    "count": ["-1", "1.5", "1e3", "", "x", AR, "\u00b2", "\uff18", "9" * 30, "0x10", "1_0"],
    "port": ["0", "65536", "99999", "-1", "\u0668\u0660", "http", "", "80.5"],
    "time": ["1e-320s", "nan", "inf", "-1s", f"{AR}s", "10 parsecs", "1e400s", "9000h", ""],
    "size": ["1e30B", "0.1B", "nan", "-5MB", f"{AR}MB", "5 parsecs", "2000TB", ""],
    "rate": ["2T", "1e400", "0.5", f"{AR}M", "-2M", "nan", "fastest", ""],
    "ratio": ["nan", "inf", "-1", "11", "1e400", "\u0660.3", "x", "0.3x", ""],
    "listen": ["127.0.0.1:\u00b2", "127.0.0.1:99999", "127.0.0.1:0", "0.0.0.0:9090",
               "\u0661\u0662\u0667.0.0.1:80", "localhost", "127.0.0.1", ":9090", "[::]:80",
               "10.0.0.1:80", "127.0.0.1:-1", "127.0.0.1:\u0668\u0660"],
    "url": ["http://127.0.0.1:99999/", "ftp://127.0.0.1/", "http://", "http://127.0.0.1:0/",
            "http://\u0661\u0662\u0667.0.0.1/", "http://127.0.0.1:\u00b2/", "http://[::1/",
            "http://127.0.0.1:x/", "http:// 127.0.0.1/", "javascript:alert(1)"],
    "address": ["\u0661\u0662\u0667.0.0.1", "example.com", "127.0.0.1:80", "", "256.0.0.1"],
    "inventory": ["no/such/inventory", "afile", "emptydir", "binfile"],
    # never a system path: a regression must not be able to replace /dev/null (one did)
    "out-file": ["d", "missing/plan.csv", "afile/plan.csv", "fifo", "", "."],
    "out-dir": ["afile", "afile/sub", "fifo", "fifo/x"],
    "in-file": ["missing.yml", "d"],
    "in-dir": ["afile"],
    "name": ["no-such-thing", AR, "", "binfile", "d"],
}  # fmt: skip
DIGITS_MATTER = {"count", "port", "time", "size", "rate", "ratio", "listen", "url", "address"}
VALID = {"count": "2", "time": "30s", "size": "900B", "name": "smoke"}
UNKNOWN = ["--no-such-option", "--no-such-option=1", "-Z", "--help-me"]


def kind_of(words: tuple[str, ...], action: argparse.Action) -> str:
    if action.nargs == 0:
        return "flag"
    if action.choices is not None:
        return "choice"
    name = name_of(action)
    return OVERRIDES.get((*words, name)) or KINDS[name]


def bad_values(words: tuple[str, ...], action: argparse.Action) -> list[str]:
    kind = kind_of(words, action)
    if kind == "choice":
        return ["nope", "", "TABLE", "jsonx"]
    return BAD[kind]


def render(action: argparse.Action, value: str) -> list[str]:
    """The words that give `action` the value: `--opt=value`, so a value like `-1s` stays one."""
    return [f"{name_of(action)}={value}"] if action.option_strings else [value]


def flags(parser: argparse.ArgumentParser) -> list[str]:
    return [name_of(a) for a in arguments(parser) if a.nargs == 0]


def value_args(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in arguments(parser) if a.nargs != 0]


def command_line(words, parser, bad_action, bad_value, chosen_flags) -> list[str]:
    """Positionals first (in order), then required options, flags and the bad argument."""
    positional = [a for a in arguments(parser) if not a.option_strings]
    line = list(words)
    for action in positional:
        if action is bad_action:
            line += render(action, bad_value)
        elif action.nargs != "?":
            line += render(action, VALID[kind_of(words, action)])
    required = [a for a in arguments(parser) if a.option_strings and a.required]
    for action in required:
        if action is not bad_action:
            line += render(action, VALID[kind_of(words, action)])
    line += chosen_flags
    if bad_action is not None and bad_action.option_strings:
        line += render(bad_action, bad_value)
    elif bad_action is None:
        line.append(bad_value)  # an unknown option, or a flag given a value
    return line


# --- a scratch world, and a tripwire around it ----------------------------------------------


class SideEffect(BaseException):
    """A command acted (started a process, opened a connection) although its input was bad."""


def _trip(what: str):
    def refuse(*args: object, **kwargs: object) -> None:
        shown = [a for a in args if isinstance(a, str | list | tuple)][:2]
        raise SideEffect(f"{what} reached with bad input: {shown!r}")

    return refuse


@contextlib.contextmanager
def memory_cap(extra: int = 2 << 30) -> Iterator[None]:
    """A MemoryError, not a machine out of memory, if a command takes an absurd number
    at face value (before the fix, `monitor config --shards 1e30 digits` did)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    in_use = int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    cap = in_use + extra if hard == resource.RLIM_INFINITY else min(hard, in_use + extra)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def tripwire() -> Iterator[None]:
    patches = [
        mock.patch.object(subprocess.Popen, "__init__", _trip("subprocess")),
        *(
            mock.patch.object(os, name, _trip(f"os.{name}"))
            for name in ("execv", "execve", "execvp", "execvpe", "fork", "system", "posix_spawn")
        ),
        *(
            mock.patch.object(socket.socket, name, _trip(f"socket.{name}"))
            for name in ("connect", "connect_ex", "bind", "sendto")
        ),
    ]
    with contextlib.ExitStack() as stack:
        stack.enter_context(memory_cap())
        for patch in patches:
            stack.enter_context(patch)
        yield


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under `root` (links not followed) with its type, size, mode and mtime."""
    seen = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st_ = path.lstat()
            seen[str(path.relative_to(root))] = (st_.st_mode, st_.st_size, st_.st_mtime_ns)
    return seen


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A working directory with small inventories where emops looks by default, a file, a
    binary file, a FIFO, a directory and an empty directory to misuse, and private lab/monitor
    state."""
    root = tmp_path_factory.mktemp("bad-input")
    work = root / "work"
    (work / "inventory").mkdir(parents=True)
    (work / "inventory" / "province").symlink_to(TINY)
    (work / "inventory" / "lab").symlink_to(LAB)
    (work / "afile").write_text("x: [\n")
    (work / "binfile").write_bytes(b"\xff\xfe\x00garbage")
    (work / "d").mkdir()
    os.mkfifo(work / "fifo")  # not a regular file, like a device, but ours to lose
    (work / "emptydir").mkdir()
    (root / "lab-state").mkdir()
    (root / "monitor-state").mkdir()
    env = {
        "EMOPS_LAB_DIR": str(root / "lab-state"),
        "EMOPS_MONITOR_DIR": str(root / "monitor-state"),
    }
    with mock.patch.dict(os.environ, env), contextlib.chdir(work):
        # warm up: Ansible's first import runs ldconfig and talks on stderr
        run_in_process(["capacity", "plan"], guard=False)
        yield root


def run_in_process(argv: list[str], guard: bool = True) -> tuple[int, str, str]:
    """control.emops_cli.main(argv) with the tripwire set: (exit code, stdout, stderr)."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    wire = tripwire() if guard else contextlib.nullcontext()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), wire:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception as exc:  # a traceback: reported, not raised, to show the argv
            traceback.print_exception(exc, file=sys.stderr)
            code = -1
    text = []
    for stream in (out, err):
        stream.flush()
        text.append(stream.buffer.getvalue().decode("utf-8", "replace"))  # type: ignore[attr-defined]
    return code, text[0], text[1]


def check_refused(world: Path, argv: list[str]) -> None:
    before = snapshot(world)
    code, out, err = run_in_process(argv)
    lines = err.strip().splitlines()
    shown = f"emops {' '.join(argv)!r}: exit {code}\n--- stderr:\n{err}--- stdout:\n{out}"
    assert "Traceback" not in err, shown
    assert code == 2, shown
    assert len(lines) == 1 and lines[0].startswith("emops"), shown
    assert out == "", shown
    assert snapshot(world) == before, shown


# --- the tests ------------------------------------------------------------------------------


def test_every_option_has_a_kind() -> None:
    """A new option needs a line in KINDS (or OVERRIDES) so it is driven with bad values."""
    missing = [
        f"emops {' '.join(words)} {name_of(a)}"
        for words, parser in COMMANDS.items()
        for a in value_args(parser)
        if a.choices is None and name_of(a) not in KINDS
    ]
    assert missing == []


def test_every_subcommand_is_driven() -> None:
    assert len(COMMANDS) >= 25  # inventory, capacity, lab, monitor, dashboard, vendor, campaign
    assert {w[0] for w in COMMANDS} >= {"inventory", "capacity", "lab", "monitor", "vendor"}


CASES = [
    (words, action, value)
    for words, parser in COMMANDS.items()
    for action in value_args(parser)
    for value in bad_values(words, action)
]


@pytest.mark.parametrize(
    ("words", "action", "value"),
    [pytest.param(w, a, v, id=f"{' '.join(w)} {name_of(a)}={v!r}") for w, a, v in CASES],
)
def test_each_bad_value_of_each_option_is_refused(world, words, action, value) -> None:
    """Every option of every command with every bad value of its kind, alone."""
    parser = COMMANDS[words]
    check_refused(world, command_line(words, parser, action, value, []))


@st.composite
def bad_command_lines(draw: st.DrawFn) -> list[str]:
    """A command, some of its flags, valid required arguments and exactly one bad argument."""
    words = draw(st.sampled_from(sorted(COMMANDS)))
    parser = COMMANDS[words]
    chosen = draw(st.lists(st.sampled_from(flags(parser)), unique=True)) if flags(parser) else []
    candidates = value_args(parser)
    how = draw(st.sampled_from(["value", "value", "unknown", "flag=value"]))
    if how == "value" and candidates:
        action = draw(st.sampled_from(candidates))
        values = bad_values(words, action)
        value = draw(st.sampled_from(values))
        if kind_of(words, action) in DIGITS_MATTER and "1" in value:
            # the same mistake with other Unicode digits: still not an ASCII number
            value = value.replace(
                "1",
                draw(
                    st.characters(categories=["Nd", "No"], max_codepoint=0xFFFF).filter(
                        lambda c: not c.isascii()
                    )
                ),
            )
        return command_line(words, parser, action, value, chosen)
    if how == "flag=value" and flags(parser):
        bad = f"{draw(st.sampled_from(flags(parser)))}={draw(st.sampled_from(['1', 'x', '']))}"
    else:
        bad = draw(st.sampled_from(UNKNOWN))
    return command_line(words, parser, None, bad, chosen)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(argv=bad_command_lines())
def test_random_bad_command_lines_are_refused(world, argv) -> None:
    check_refused(world, argv)


# --- as a user types them: the real program in a shell's place -------------------------------


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["capacity", "bulk", "--size", "20MB", "--required-time", "1e-320s"], "--required-time"),
        (["capacity", "pingpong", "--users", AR + "0", "--think-time", "30s", "--packets", "8",
          "--packet-size", "900B"], "--users"),
        (["capacity", "pingpong", "--users", "1" + "0" * 30, "--think-time", "30s", "--packets",
          "8", "--packet-size", "900B"], "--users"),
        (["capacity", "plan", "--csv", "ok.csv", "--json", "d"], "--json"),
        (["monitor", "up", "--prometheus-listen", "127.0.0.1:\u00b2"], "--prometheus-listen"),
        (["monitor", "config", "--remote-write", "http://127.0.0.1:99999/", "--out", "gen"],
         "--remote-write"),
        (["vendor", "render", "--redact", "--out", "afile"], "--out"),
    ],
)  # fmt: skip
def test_as_typed_in_a_shell(world, args, field) -> None:
    before = snapshot(world)
    env = {
        **os.environ,
        "EMOPS_LAB_DIR": str(world / "lab-state"),
        "EMOPS_MONITOR_DIR": str(world / "monitor-state"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "control.emops_cli", *args],
        capture_output=True,
        text=True,
        cwd=world / "work",
        env=env,
        timeout=60,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and field in lines[0] and lines[0].startswith("emops"), done.stderr
    assert done.stdout == ""
    assert snapshot(world) == before
