"""The dependency tree is locked with hashes, and everything installs from the lock."""

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
APPS = ("smsbot", "subscribers", "messaging")


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (following -r includes)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif line:
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{path.name}: {line} is not pinned exactly"
            found[canonicalize_name(requirement.name)] = spec.version
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) of a lock written by `make lock`."""
    entries: dict[str, tuple[str, int]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        match = re.match(r"([A-Za-z0-9._-]+)==([^ ;\\\n]+)", block)
        if match:
            name = canonicalize_name(match[1])
            entries[name] = (match[2], block.count("--hash=sha256:"))
    return entries


RUNTIME_LOCK = locked(ROOT / "requirements.lock")
DEV_LOCK = locked(ROOT / "requirements-dev.lock")


def test_every_pinned_requirement_is_in_its_lock_at_the_same_version():
    stale = [
        f"{name}=={version} (lock: {lock.get(name, ('missing',))[0]})"
        for requirements, lock in [
            ("requirements.txt", RUNTIME_LOCK),
            ("requirements-dev.txt", DEV_LOCK),
        ]
        for name, version in pins(ROOT / requirements).items()
        if lock.get(name, ("",))[0] != version
    ]
    assert not stale, "run `make lock`: " + ", ".join(stale)


def test_every_locked_package_has_hashes_and_both_locks_agree():
    assert len(RUNTIME_LOCK) > 40 and len(DEV_LOCK) > len(RUNTIME_LOCK)
    assert all(count >= 1 for _, count in {**RUNTIME_LOCK, **DEV_LOCK}.values())
    for name, (version, _) in RUNTIME_LOCK.items():
        assert DEV_LOCK[name][0] == version, name
    assert not {"pytest", "moto", "ruff", "uv", "pip-audit"} & set(RUNTIME_LOCK)


def test_install_image_and_ci_install_from_the_locks_with_hashes_required():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements-dev.lock" in makefile
    assert re.search(r"^lock:", makefile, re.M) and re.search(r"^audit:", makefile, re.M)
    assert "pip-audit --strict --require-hashes" in makefile
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert "pip install --require-hashes -r /tmp/requirements.lock" in dockerfile
    assert "make install" in (ROOT / ".ci" / "run").read_text()


def test_what_the_portal_imports_is_pinned_in_requirements_txt():
    distributions = packages_distributions()
    runtime = pins(ROOT / "requirements.txt")
    unpinned = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # generated; they import what the models' libraries need
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in APPS or top in sys.stdlib_module_names:
                        continue
                    dists = {canonicalize_name(d) for d in distributions.get(top, [top])}
                    if not dists & set(runtime):
                        unpinned.add(f"{top} ({path.relative_to(ROOT)})")
    assert not unpinned, f"imported but not pinned in requirements.txt: {sorted(unpinned)}"


def test_compose_runs_the_moto_the_tests_run():
    image = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())["services"]["aws"]
    assert image["image"] == f"motoserver/moto:{pins(ROOT / 'requirements-dev.txt')['moto']}"
