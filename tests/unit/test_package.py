"""The lab as a package (pyproject.toml): a wheel built from a copy of the clone, installed
into a new virtual environment outside it, gives the `xenlab` command, `import xenlab`
from that environment with the files the lab reads at run time, and the pytest plugin
whose fixtures `pytest --fixtures` lists. No boots; no network (the dependencies are
this interpreter's, put on the new environment's path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ("lab", "dom0_lab", "make_lab", "xen_hosts", "xen_host", "boot_dom0", "boot_kernel")
DATA = ("parts/dom0_files/init", "parts/dom0_files/usr/lib/xenlab/xenlab-agent",
        "parts/dom0_files/etc/xenlab/bashrc", "include/inet_csum.h", "bench/netload.c",
        "bench/diskload.c")


def run(cmd: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert res.returncode == 0, f"{cmd}: {res.stdout}{res.stderr}"
    return res.stdout


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel of this clone installed (without its dependencies)."""
    tmp = tmp_path_factory.mktemp("package")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", ".venv", "*.egg-info", "__pycache__", ".*_cache"))
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp / "wheels"), str(src)], tmp)
    wheels = list((tmp / "wheels").glob("xenlab-*.whl"))
    assert len(wheels) == 1, wheels
    env = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(env)], tmp)
    run([sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install", "-q",
         "--no-deps", "--no-index", str(wheels[0])], tmp)
    site = Path(run([str(env / "bin" / "python"), "-c",
                     "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp).strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def test_wheel_gives_the_command_and_the_package(venv: Path) -> None:
    out = run([str(venv / "bin" / "xenlab"), "--help"], venv.parent)
    for command in ("boot", "selftest", "xtf", "build"):
        assert command in out, out
    assert "--junit" in run([str(venv / "bin" / "xenlab"), "boot", "--help"], venv.parent)
    where = Path(run([str(venv / "bin" / "python"), "-c",
                      "import xenlab; print(xenlab.__file__)"], venv.parent).strip()).parent
    assert where.is_relative_to(venv), f"xenlab imported from {where}, not the venv"
    for rel in DATA:
        assert (where / rel).is_file(), f"{rel} is missing from the wheel"
    assert os.access(where / "parts/dom0_files/init", os.X_OK), "dom0's init lost its x bit"


def test_pytest_finds_the_plugin_and_lists_its_fixtures(venv: Path) -> None:
    empty = venv.parent / "empty"
    empty.mkdir(exist_ok=True)
    out = run([str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider",
               "--fixtures"], empty)
    assert "fixtures defined from xenlab.pytest_plugin" in out, out
    for name in FIXTURES:
        assert f"\n{name} " in out, f"{name} is not listed:\n{out}"
    out = run([str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider",
               "--markers"], empty)
    assert "@pytest.mark.xenlab(" in out, out
