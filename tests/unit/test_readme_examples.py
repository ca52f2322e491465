"""Every runnable example of the README's *Command line* and *REST API* sections runs on the demo data (#13.23).

The README's overtime example once named a unit of another care home and answered 422; other examples used
placeholders (`FILE`, `OUT.csv`), a file that does not exist (`tasks.csv`), a hard-coded model version and ids that
only exist after clicks in the app. Here the README is the test input:

- In those two sections every fenced block is either ```bash (runnable, executed here) or ```text (syntax
  reference, never executed); anything else fails, so a new example has to be one or the other.
- The ```bash blocks of a section run in order in one `bash` process (`set -euo pipefail`, an ERR trap naming the
  failing README line), from a copy of the repository root whose `outputs/` is temporary, against a temporary
  SQLite store bootstrapped with the demo data by `python -m src.cli bootstrap` (as `make run` does). The CLI
  section runs first, then the REST section on the same store, as a reader going down the README would.
- Every command must exit 0. `curl` reads a `.curlrc` that adds `--fail-with-body`, so an HTTP error status fails
  its command too. An example that is meant to fail states its exit code in shell: `cmd || test $? -eq 3`.
- The REST section starts its own API server (`$PY -m src.api --port 8000 &`); only the port is replaced with a
  free one. The whole process group of each section is stopped afterwards, also when a command failed.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTIONS = ("Command line", "REST API")
#: README port of the API examples, replaced with a free one in the test
README_PORT = "8000"
#: seconds one section may take before the test stops it (the whole test takes ~60 s on a quiet 2-core machine)
SECTION_TIMEOUT_S = 300
#: settings the examples must not inherit from the developer's shell (the test sets its own store and folders)
_SETTING_PREFIXES = ("APP_", "WFP_", "DASK_", "UPLOAD_", "LOGIN_", "MODEL_", "STREAMLIT_")
_SETTING_NAMES = {"DATABASE_URL", "LOAD_DEMO_DATA", "MODELS_DIR", "OUTPUTS_DIR", "TEST_DATABASE_URL", "CURL_HOME"}


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    section: str
    lang: str
    first_line: int  # README line number of the block's first content line (1-based)
    text: str


def readme_blocks(text: str, sections: tuple[str, ...] = SECTIONS) -> list[Block]:
    """The fenced blocks of the ``## <section>`` parts of the README (sub-headings ``###`` stay in the section)."""
    blocks: list[Block] = []
    section: str | None = None
    lang: str | None = None
    start, body = 0, []
    for no, line in enumerate(text.splitlines(), start=1):
        if lang is not None:  # inside a fence
            if line.strip() == "```":
                if section is not None:
                    blocks.append(Block(section, lang, start, "\n".join(body) + "\n"))
                lang = None
            else:
                body.append(line)
            continue
        if line.startswith("## "):
            name = line[3:].strip()
            section = name if name in sections else None
        elif line.startswith("```"):
            lang, start, body = line[3:].strip(), no + 1, []
    assert lang is None, "README.md ends inside a code block"
    return blocks


def test_every_example_block_is_runnable_bash_or_a_text_reference():
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    for name in SECTIONS:
        assert any(b.section == name and b.lang == "bash" for b in blocks), \
            f"README section '## {name}' has no runnable ```bash example (or the section was renamed)"
    wrong = [f"README.md:{b.first_line - 1} (## {b.section}): ```{b.lang}" for b in blocks
             if b.lang not in ("bash", "text")]
    assert not wrong, ("mark each block in these sections ```bash (runnable on the demo data, executed by this "
                       "test) or ```text (syntax with placeholders, not run): " + "; ".join(wrong))


def test_the_parser_finds_blocks_of_the_named_sections_only():
    text = ("## Other\n```bash\nfalse\n```\n## REST API\ntext\n### Sub\n```bash\ncurl -s x\n```\n```text\nA|B\n```\n"
            "## Next\n```bash\nfalse\n```\n")
    blocks = readme_blocks(text)
    assert [(b.section, b.lang, b.first_line, b.text) for b in blocks] == [
        ("REST API", "bash", 9, "curl -s x\n"), ("REST API", "text", 12, "A|B\n")]


def test_a_failing_example_fails_the_runner(tmp_path):
    """The runner reports the README line of the first command that fails, and stops there."""
    blocks = [Block("Command line", "bash", 10, "true\nfalse   # wrong\necho never\n")]
    result = run_section(blocks, cwd=tmp_path, env={**os.environ}, port=None, timeout=30)
    assert not result.ok
    assert result.failed_readme_line == 11
    assert "never" not in result.stdout


# ------------------------------------------------------------------------------------------------ runner


@dataclass
class SectionRun:
    ok: bool
    returncode: int | None
    stdout: str
    stderr: str
    failed_readme_line: int | None
    seconds: float

    def explain(self) -> str:
        where = f"README.md:{self.failed_readme_line}" if self.failed_readme_line else "(no failing line reported)"
        return (f"exit {self.returncode} after {self.seconds:.1f} s; first failing command at {where}\n"
                f"--- stderr (tail) ---\n{self.stderr[-4000:]}\n--- stdout (tail) ---\n{self.stdout[-2000:]}")


_DONE = "__README_EXAMPLES_DONE__"


def _script(blocks: list[Block], port: str | None) -> tuple[str, list[int | None]]:
    """A bash script of the blocks; and, per script line, the README line it came from."""
    lines = ["set -euo pipefail",
             "trap 'echo \"__README_FAILED__ line=$LINENO exit=$?: $BASH_COMMAND\" >&2; exit 97' ERR"]
    origin: list[int | None] = [None, None]
    for b in blocks:
        text = b.text
        if port is not None:
            text = text.replace(f"--port {README_PORT}", f"--port {port}").replace(f":{README_PORT}", f":{port}")
        for i, line in enumerate(text.splitlines()):
            lines.append(line)
            origin.append(b.first_line + i)
    lines.append(f"echo {_DONE}")
    origin.append(None)
    return "\n".join(lines) + "\n", origin


def run_section(blocks: list[Block], *, cwd: Path, env: dict[str, str], port: str | None,
                timeout: float = SECTION_TIMEOUT_S) -> SectionRun:
    """Run the blocks as one bash script in ``cwd``; stop its whole process group afterwards (a background API
    server of a failed run included)."""
    script, origin = _script(blocks, port)
    path = cwd / f".readme_section_{os.getpid()}_{time.monotonic_ns()}.sh"
    path.write_text(script, encoding="utf-8")
    out_path, err_path = path.with_suffix(".out"), path.with_suffix(".err")
    started = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(["bash", str(path)], cwd=cwd, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # our own session: bash and what it started
            except ProcessLookupError:
                pass
            if rc is None:
                proc.wait(timeout=10)
    seconds = time.monotonic() - started
    stdout = out_path.read_text(encoding="utf-8", errors="replace")
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    failed = None
    m = re.search(r"__README_FAILED__ line=(\d+)", stderr)
    if m and int(m.group(1)) - 1 < len(origin):
        failed = origin[int(m.group(1)) - 1]
    if rc is None:
        stderr += f"\n(stopped after {timeout:.0f} s)"
    ok = rc == 0 and stdout.rstrip().endswith(_DONE)
    return SectionRun(ok, rc, stdout, stderr, failed, seconds)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mirror_root(work: Path) -> None:
    """``work`` looks like the repository root to the examples: source, samples and the interpreter are links;
    ``outputs/``, ``models/`` and ``data/`` (without databases) are its own, so nothing is written into the
    checkout."""
    own = {"outputs", "models", ".local", "data", ".venv", ".git"}
    for entry in ROOT.iterdir():
        if entry.name not in own:
            (work / entry.name).symlink_to(entry)
    for name in ("outputs", "models", "data"):
        (work / name).mkdir()
    for entry in (ROOT / "data").iterdir():  # the samples, not a local database
        if not re.search(r"\.(db|sqlite\d?)(-\w+)?$", entry.name):
            (work / "data" / entry.name).symlink_to(entry)
    if sys.prefix != sys.base_prefix:  # the virtual environment running the tests stands in for .venv
        (work / ".venv").symlink_to(Path(sys.prefix))
    else:
        (work / ".venv" / "bin").mkdir(parents=True)
        shim = work / ".venv" / "bin" / "python"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
        shim.chmod(0o755)


@pytest.fixture(scope="module")
def demo_workdir(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A repository-root look-alike and the environment of a demo-data store made by ``src.cli bootstrap``."""
    base = tmp_path_factory.mktemp("readme")
    work = base / "root"
    work.mkdir()
    _mirror_root(work)
    (base / ".curlrc").write_text("fail-with-body\nshow-error\nconnect-timeout = 10\nmax-time = 180\n",
                                  encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(_SETTING_PREFIXES) and k not in _SETTING_NAMES}
    env.update(DATABASE_URL=f"sqlite:///{base / 'readme.db'}", APP_COOKIE_KEY=secrets.token_urlsafe(48),
               MODELS_DIR=str(work / "models"), OUTPUTS_DIR=str(work / "outputs"), CURL_HOME=str(base))
    boot = subprocess.run([str(work / ".venv" / "bin" / "python"), "-m", "src.cli", "bootstrap"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert boot.returncode == 0, f"bootstrap failed:\n{boot.stdout}\n{boot.stderr}"
    return work, env


def test_readme_examples_run_on_the_demo_data(demo_workdir):
    work, env = demo_workdir
    for tool in ("bash", "curl"):
        assert subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode == 0, \
            f"the README examples need {tool}, which is not installed"
    blocks = readme_blocks(README.read_text(encoding="utf-8"))
    rest = [b for b in blocks if b.section == "REST API" and b.lang == "bash"]
    assert any(f"--port {README_PORT}" in b.text for b in rest), \
        f"the REST examples start the API with --port {README_PORT} (the test replaces that port)"
    foreground = [line for b in rest for line in b.text.splitlines()
                  if "-m src.api" in line and not re.search(r"&(\s|$)", line.split("#")[0])]
    assert not foreground, f"start the API in the background ('&'), or the next example never runs: {foreground}"
    timings = {}
    for name in SECTIONS:
        runnable = [b for b in blocks if b.section == name and b.lang == "bash"]
        result = run_section(runnable, cwd=work, env=env, port=str(_free_port()) if name == "REST API" else None)
        assert result.ok, f"README section '## {name}': " + result.explain()
        timings[name] = round(result.seconds, 1)
    print(f"README sections run in {timings} s")
