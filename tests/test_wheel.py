"""The package as a user installs it: a wheel built from the checkout's files, installed into a folder, run from there.

The wheel is built from a copy of the files git lists (so a stray ``build/`` or ``*.egg-info`` cannot leak in) and
installed with ``pip install --no-deps --target T``; every check runs in a subprocess outside the checkout with
``PYTHONPATH=T``. The dev venv also holds an *editable* install of the checkout, which would hide a module the wheel
lacks, so the checks look at where things came from: each module's ``__file__``, the distribution importlib.metadata
finds, the files Python's verbose import log (``PYTHONVERBOSE``) names; a negative control shows that log naming the
checkout when a process does import from it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DIST_NAME = PYPROJECT["project"]["name"]
# Where each importable top level lives in the source tree: pyproject's package-dir, else the package's own name.
PACKAGE_DIRS = {"": "", **PYPROJECT["tool"]["setuptools"].get("package-dir", {})}
PACKAGE_ROOTS = ("jointaug_plugins", "adapters")  # the folders whose files make the wheel's packages
# Entry-point groups as pyproject declares them: {group: {name: "module[:attr]"}}, console scripts included.
ENTRY_POINTS = {"console_scripts": PYPROJECT["project"]["scripts"], **PYPROJECT["project"]["entry-points"]}
LIGHTNING_GROUPS = ("lightning.pytorch.callbacks_factory", "pytorch_lightning.callbacks_factory")
HYDRA_GROUP_DIR = "hydra_plugins/jointaug_searchpath/conf/jointaug"
# The verify run: SimCLR of mmselfsup plus the README's one line, from the repository's configs.
VERIFY_CONFIG = ROOT / "configs" / "mmselfsup" / "simclr_resnet50_8xb32-coslr-200e_in1k_jointcrop.py"
LOADED = re.compile(r"(/[^\s']+?\.pyc?)\b")  # the .py / .pyc files a verbose import log (python -v) names
TIMEOUT = 300  # seconds per subprocess: generous on 2 shared cores; each run here takes well under 30 s


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd`` (text output captured, :data:`TIMEOUT` seconds at most)."""
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, env=env)


def _source_files() -> list[str]:
    """The checkout's files a clone would have: tracked ones and new ones git does not ignore (relative paths)."""
    if not (ROOT / ".git").exists():
        pytest.skip("builds the wheel from the files git lists; this tree is not a git checkout")
    listed = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT)
    assert listed.returncode == 0, listed.stderr
    return sorted(p for p in listed.stdout.split("\0") if p and (ROOT / p).is_file())  # deleted tracked files drop out


def _wheel_name(source: str) -> str | None:
    """Where a source file lands in the wheel (by pyproject's package-dir); None for files outside the packages."""
    if not source.startswith(tuple(f"{r}/" for r in PACKAGE_ROOTS)) or "__pycache__" in source:
        return None
    for package, folder in sorted(PACKAGE_DIRS.items(), key=lambda item: -len(item[1])):  # the longest match wins
        if folder and source.startswith(folder + "/"):
            return package.replace(".", "/") + source[len(folder) :]
    return source


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(wheel path, install folder T, files the wheel should hold): built from a copy of the checkout's files."""
    base = tmp_path_factory.mktemp("wheel")
    src, dist, target = base / "src", base / "dist", base / "T"
    files = _source_files()
    for rel in files:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    # --no-build-isolation: build with this venv's setuptools (pyproject asks for >=77,<81) instead of fetching one.
    build = _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)], base)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    install = _run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], base)
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    expected = {name for rel in files if (name := _wheel_name(rel))}
    return wheel, target, expected


def _env(target: Path, verbose: bool = False) -> dict[str, str]:
    """The environment of a user's process: T first on the path, nothing of the checkout's."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONVERBOSE", "PYTHONSTARTUP")}
    return env | {"PYTHONPATH": str(target)} | ({"PYTHONVERBOSE": "1"} if verbose else {})  # -v: files on stderr


def _checkout_files(log: str) -> set[str]:
    """Files of the checkout (not of its venv) that a verbose import log shows being read."""
    read = map(Path, LOADED.findall(log))
    return {str(p) for p in read if p.is_relative_to(ROOT) and not p.is_relative_to(sys.prefix)}


def _package_files(log: str, target: Path) -> set[str]:
    """Files under T that a verbose import log shows being read."""
    return {str(p) for p in map(Path, LOADED.findall(log)) if p.is_relative_to(target)}


# --- what the wheel holds ------------------------------------------------------------------------------------------


def test_wheel_holds_every_package_file_of_the_checkout(built):
    wheel, _, expected = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    shipped = {n for n in names if ".dist-info/" not in n}
    missing, extra = sorted(expected - shipped), sorted(shipped - expected)
    assert not missing, f"not in the wheel (add the package to pyproject's packages, data to package-data): {missing}"
    assert not extra, f"in the wheel but not among the checkout's files: {extra}"
    assert {n.split("/")[0] for n in shipped} == {"jointaug_plugins", "hydra_plugins"}  # no stray top level
    yamls = {n for n in shipped if n.startswith(HYDRA_GROUP_DIR + "/") and n.endswith(".yaml")}
    assert {Path(n).stem for n in yamls} >= {"crop", "blur", "color", "crop_or_blur"}
    if (ROOT / "jointaug_plugins" / "py.typed").is_file():
        assert "jointaug_plugins/py.typed" in shipped  # PEP 561: type checkers use the installed package's hints
    assert re.search(rf"^Name: {re.escape(DIST_NAME)}$", metadata, re.M)
    assert re.search(rf"^Version: {re.escape(PYPROJECT['project']['version'])}$", metadata, re.M)
    extras = set(re.findall(r"^Provides-Extra: (\S+)$", metadata, re.M))
    assert extras == set(PYPROJECT["project"]["optional-dependencies"])  # `pip install "<wheel>[solo]"` etc.


# --- the installed wheel, used with the checkout out of reach ------------------------------------------------------

_PROBE = r"""
import importlib, importlib.metadata as md, json, sys, traceback
from pathlib import Path

target, root = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
modules, groups = json.loads(sys.argv[3]), json.loads(sys.argv[4])
out = {"path_in_checkout": [p for p in sys.path if p and Path(p).resolve().is_relative_to(root)
                            and not Path(p).resolve().is_relative_to(Path(sys.prefix).resolve())]}

def where(module):
    f = getattr(sys.modules.get(module), "__file__", None)
    return str(Path(f).resolve()) if f else None

def imported(name):
    try:
        importlib.import_module(name)
        return {"file": where(name)}
    except BaseException:
        return {"error": traceback.format_exc(limit=3)}

out["modules"] = {name: imported(name) for name in modules}

dist = md.distribution(sys.argv[5])
out["dist"] = {"location": str(Path(dist.locate_file("")).resolve()), "version": dist.version}
out["entry_points"] = {}
for group in groups:
    found = {}
    for ep in md.entry_points(group=group):
        if ep.dist is None or ep.dist.name != dist.name:
            continue
        row = {"value": ep.value, "dist": str(Path(ep.dist.locate_file("")).resolve())}
        try:
            obj = ep.load()
            row["file"] = where(getattr(obj, "__module__", None) or obj.__name__)
            row["callable"] = callable(obj)
        except BaseException:
            row["error"] = traceback.format_exc(limit=3)
        found[ep.name] = row
    out["entry_points"][group] = found

# Lightning builds its external callbacks from the entry points at Trainer construction.
out["trainer_callbacks"] = {}
for package in ("lightning.pytorch", "pytorch_lightning"):
    try:
        pl = importlib.import_module(package)
    except ImportError:
        continue
    trainer = pl.Trainer(accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    out["trainer_callbacks"][package] = [
        {"module": type(cb).__module__, "file": where(type(cb).__module__)} for cb in trainer.callbacks
        if type(cb).__module__.startswith("jointaug_plugins")
    ]

# hydra finds the search-path plugin in the hydra_plugins namespace and lists the `jointaug` group from the wheel.
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.plugins import Plugins
from hydra.plugins.search_path_plugin import SearchPathPlugin

discovered = Plugins.instance().discover(SearchPathPlugin)
plugins = [p for p in discovered if p.__module__.startswith("hydra_plugins.jointaug")]
out["hydra_plugins"] = [where(p.__module__) for p in plugins]
with initialize_config_dir(config_dir=str(Path.cwd()), version_base="1.2"):
    out["hydra_group"] = sorted(GlobalHydra.instance().config_loader().get_group_options("jointaug"))
print("PROBE" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def probe(built, tmp_path_factory):
    """What a process with only T on its path finds: modules, distribution, entry points, Lightning and hydra."""
    _, target, expected = built
    # Every module but __main__ (which runs the CLI on import; the console-script tests run the CLI).
    python = [n.removesuffix(".py").removesuffix("/__init__") for n in expected if n.endswith(".py")]
    modules = sorted(n.replace("/", ".") for n in python if not n.endswith("__main__"))
    cwd = tmp_path_factory.mktemp("probe_cwd")
    argv = [str(target), str(ROOT), json.dumps(modules), json.dumps(list(ENTRY_POINTS)), DIST_NAME]
    result = _run([sys.executable, "-c", _PROBE, *argv], cwd, _env(target))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (line,) = [ln for ln in result.stdout.splitlines() if ln.startswith("PROBE")]
    return target.resolve(), modules, json.loads(line.removeprefix("PROBE"))


def test_every_module_and_the_metadata_come_from_the_install_folder(probe):
    target, modules, out = probe
    assert out["path_in_checkout"] == []
    assert len(modules) > 50 and set(out["modules"]) == set(modules)
    failed = {m: r["error"] for m, r in out["modules"].items() if "error" in r}
    assert not failed, failed
    elsewhere = {m: r["file"] for m, r in out["modules"].items() if not Path(r["file"]).is_relative_to(target)}
    assert not elsewhere, f"imported from outside the installed wheel: {elsewhere}"
    assert out["dist"] == {"location": str(target), "version": PYPROJECT["project"]["version"]}


@pytest.mark.parametrize("group", list(ENTRY_POINTS))
def test_entry_points_load_from_the_install_folder(probe, group):
    target, _, out = probe
    found = out["entry_points"][group]
    assert {name: row["value"] for name, row in found.items()} == ENTRY_POINTS[group]
    for name, row in found.items():
        assert "error" not in row, (name, row.get("error"))
        assert row["dist"] == str(target)
        if group == "console_scripts" or group in LIGHTNING_GROUPS:
            assert row["callable"] is True, name  # the others are plugin modules, which pluggy registers
        assert Path(row["file"]).is_relative_to(target), (name, row["file"])


def test_lightning_trainers_pick_up_the_guard_from_the_install_folder(probe):
    target, _, out = probe
    assert set(LIGHTNING_GROUPS) <= set(ENTRY_POINTS)
    assert out["trainer_callbacks"], "neither lightning nor pytorch_lightning is importable"
    for package, callbacks in out["trainer_callbacks"].items():
        guards = [cb for cb in callbacks if cb["module"] == "jointaug_plugins.adapters.solo.guard"]
        assert len(guards) == 1, (package, callbacks)  # once, though the editable install declares it too
        assert all(Path(cb["file"]).is_relative_to(target) for cb in callbacks), callbacks


def test_hydra_finds_the_jointaug_group_in_the_install_folder(built, probe):
    wheel, _, _ = built
    target, _, out = probe
    assert len(out["hydra_plugins"]) == 1 and Path(out["hydra_plugins"][0]).is_relative_to(target)
    with zipfile.ZipFile(wheel) as archive:
        shipped = sorted(Path(n).stem for n in archive.namelist() if n.startswith(HYDRA_GROUP_DIR + "/"))
    assert out["hydra_group"] == shipped


# --- the console script --------------------------------------------------------------------------------------------


def test_import_log_names_the_checkout_when_a_process_imports_from_it(tmp_path):
    """Negative control for the tests below: without T on the path, the dev venv's jointaug_plugins is the checkout's
    (an editable install), and the verbose log shows its files (skipped where the venv holds a regular install)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script = "import jointaug_plugins.cli; print('FILE=' + jointaug_plugins.__file__)"
    result = _run([sys.executable, "-v", "-c", script], tmp_path, env)
    assert result.returncode == 0, result.stderr[-3000:]
    (origin,) = [Path(ln[5:]) for ln in result.stdout.splitlines() if ln.startswith("FILE=")]
    if not origin.resolve().is_relative_to(ROOT):
        pytest.skip(f"this venv's jointaug_plugins is not the checkout's ({origin})")
    assert any("/jointaug_plugins/cli/" in p for p in _checkout_files(result.stderr))


def test_jointaug_help_runs_from_the_install_folder(built, tmp_path):
    _, target, _ = built
    result = _run([str(target / "bin" / "jointaug"), "--help"], tmp_path, _env(target, verbose=True))
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"^\s+verify\s", result.stdout, re.M), result.stdout  # the subcommands, one a line
    assert not _checkout_files(result.stderr)
    assert any("/jointaug_plugins/cli/" in p for p in _package_files(result.stderr, target))


def test_verify_from_the_console_script_says_joint(built, tmp_path):
    """``jointaug verify`` on mmselfsup's SimCLR config plus the one-line switch, from T's console script."""
    pytest.importorskip("mmselfsup")
    _, target, _ = built
    config = tmp_path / VERIFY_CONFIG.name
    shutil.copy2(VERIFY_CONFIG, config)
    # 120 pairs clear the verdict's minimum (about 90 at scale 0.08-1.0); the seed makes the run repeatable.
    command = [str(target / "bin" / "jointaug"), "verify", config.name, "--n", "120", "--workers", "0", "--seed", "0"]
    result = _run([*command, "--json"], tmp_path, _env(target, verbose=True))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert report["library"] == "mmselfsup" and report["coordinator"] == "JointViews"
    (crop,) = [p for p in report["pairs"] if p["kind"] == "crop"]
    assert crop["verdict"] == "joint" and crop["joint_configured"] is True, crop
    assert not _checkout_files(result.stderr)
    loaded = _package_files(result.stderr, target)
    assert any("/jointaug_plugins/adapters/mm" in p for p in loaded)
    assert any("/jointaug_plugins/cli/verify" in p for p in loaded)
