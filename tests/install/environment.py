"""A fresh Home Assistant environment without Peerdeck, made from one of the stack's environments.

Installing Home Assistant from the package index takes minutes, so the new environment is a copy of an existing
one that has Home Assistant and the frontend it pins: a new virtual environment of the same Python whose
site-packages are hard links to the original's files (nothing is written into them in place: installers replace
files, they never edit them), with ``peerdeck`` and ``peerdeck-bot`` then uninstalled by uv. What is left is a
Home Assistant Core install as its users have it, and the only way ``peerdeck`` gets in is Home Assistant's own
requirement installer.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEMO_VENV = Path("/opt/peerdeck/demo")
"""Today's stack's demo environment: Home Assistant 2026.11 with the frontend it pins (see scripts/setup)."""
OURS = ("peerdeck", "peerdeck-bot")
# What the test process carries that a user's Home Assistant does not: our sources on the path, another
# environment's marker, and other package indexes for uv (the test gives its own).
DROPPED_ENV = (
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "PEERDECK_RELEASE_PYTHON",
    "UV_INDEX",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
)


def base_environment() -> Path:
    """The environment to copy: the one running the tests when it has the frontend; else (today's stack before
    its test environment got the frontend) the demo's. Without the frontend package Home Assistant would
    install it first (Peerdeck's manifest names the frontend among its after-dependencies)."""
    if importlib.util.find_spec("hass_frontend") is not None:
        return Path(sys.prefix)
    return DEMO_VENV


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without what would let a child find our sources or another environment."""
    return {**{name: value for name, value in os.environ.items() if name not in DROPPED_ENV}, **extra}


@dataclass(frozen=True)
class Environment:
    """A virtual environment and the commands it has."""

    prefix: Path

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    @property
    def hass(self) -> Path:
        return self.prefix / "bin" / "hass"

    def run(self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 300.0) -> str:
        """Run its Python with ``args``; returns the output, raises with it on failure."""
        done = subprocess.run(
            [str(self.python), *args],
            env=dict(env) if env is not None else clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            command = f"{self.python} {' '.join(args)}"
            raise RuntimeError(f"{command} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
        return done.stdout

    def distribution(self, name: str) -> str | None:
        """The installed version of a distribution, or ``None``."""
        code = (
            "import importlib.metadata as m, sys\n"
            "try: print(m.version(sys.argv[1]))\n"
            "except m.PackageNotFoundError: print('')\n"
        )
        return self.run("-c", code, name).strip() or None

    def imports(self, module: str) -> str | None:
        """Where the environment's Python finds ``module``, or ``None``."""
        code = (
            "import importlib.util, sys\n"
            "spec = importlib.util.find_spec(sys.argv[1])\n"
            "print(spec.origin if spec else '')\n"
        )
        return self.run("-c", code, module).strip() or None


def fresh_home_assistant(base: Path, target: Path) -> Environment:
    """A new environment at ``target`` with everything ``base`` has except Peerdeck (see the module's doc)."""
    base_python = (base / "bin" / "python").resolve()
    subprocess.run([str(base_python), "-m", "venv", "--without-pip", str(target)], check=True)
    environment = Environment(target)
    version = environment.run("-c", "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')").strip()
    source = base / "lib" / f"python{version}" / "site-packages"
    destination = target / "lib" / f"python{version}" / "site-packages"
    shutil.rmtree(destination)
    if subprocess.run(["cp", "-al", str(source), str(destination)], check=False).returncode != 0:
        shutil.rmtree(destination, ignore_errors=True)  # another file system: copies instead of links
        subprocess.run(["cp", "-a", str(source), str(destination)], check=True)
    for tool in ("uv", "uvx"):  # uv's binaries live in bin/; Home Assistant runs "python -m uv", which finds them
        if (base / "bin" / tool).exists():
            try:
                os.link(base / "bin" / tool, target / "bin" / tool)
            except OSError:
                shutil.copy2(base / "bin" / tool, target / "bin" / tool)
    environment.hass.write_text(
        f"#!{environment.python}\nimport sys\nfrom homeassistant.__main__ import main\nsys.exit(main())\n"
    )
    environment.hass.chmod(0o755)
    installed = [name for name in OURS if environment.distribution(name)]
    if installed:
        environment.run("-m", "uv", "pip", "uninstall", "--quiet", "--python", str(environment.python), *installed)
    return environment
