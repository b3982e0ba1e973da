"""The README's two commands install their Debian packages or say exactly what to run."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "system-packages"


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run_as_user_with_nothing_installed(tmp_path: Path, purpose: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    _stub(bin_dir, "dpkg", "exit 1")  # nothing is installed
    _stub(bin_dir, "id", "echo 1000")  # not root
    _stub(bin_dir, "apt-get", "echo apt-get must not run without root >&2; exit 99")
    env = {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    env.pop("SUDO_USER", None)
    # No sudo on this PATH: /usr/bin/sudo, if present, is hidden by checking `sudo -n` fails.
    _stub(bin_dir, "sudo", "exit 1")
    return subprocess.run(["bash", str(SCRIPT), purpose], env=env, capture_output=True, text=True, timeout=60)


def test_without_root_it_stops_with_the_exact_install_line(tmp_path):
    result = _run_as_user_with_nothing_installed(tmp_path, "demo")
    assert result.returncode == 1
    line = next(x for x in result.stderr.splitlines() if "apt-get install" in x)
    assert line.strip().startswith("sudo apt-get update && sudo apt-get install -y")
    # The picture needs libvlc's video outputs, not just the library.
    assert {"libvlc5", "vlc-plugin-base", "vlc-plugin-video-output", "libxcb-cursor0"} <= set(line.split())
    assert "xvfb" not in line.split()  # the demo does not need the test-only packages


def test_the_test_command_also_needs_xvfb(tmp_path):
    result = _run_as_user_with_nothing_installed(tmp_path, "test")
    assert result.returncode == 1
    assert {"xvfb", "vlc-plugin-video-output", "msitools"} <= set(result.stderr.split())


def test_ci_runs_the_same_install_step_then_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    steps = [line.strip() for line in ci if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))]
    assert steps == ["packaging/system-packages test", "make test"]
    assert "make test" in (ROOT / "README.md").read_text()


def test_the_bench_command_also_needs_espeak_ng(tmp_path):
    result = _run_as_user_with_nothing_installed(tmp_path, "bench")
    assert result.returncode == 1
    assert {"espeak-ng", "xvfb"} <= set(result.stderr.split())
    assert "espeak-ng" not in _run_as_user_with_nothing_installed(tmp_path / "t", "test").stderr.split()
