"""Type-check the package as it is imported, ``kefu``, not as the folders it lives in.

The source folders are mapped at install time (``core/`` → ``kefu``, ``plugins/`` →
``kefu.plugins``), which mypy cannot follow: ``mypy core plugins`` reads every file
but sees each ``from kefu… import`` as an unknown module, so every name that crosses
a module boundary is ``Any`` and goes unchecked. This builds the package's shape
from symbolic links in a temporary folder, runs ``mypy -p kefu`` on it with the
project's settings, and prints mypy's report with the paths of the real files.

    python tools/typecheck.py [extra mypy arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_view(folder: Path) -> Path:
    """``folder/kefu``: links to every entry of core/, and kefu/plugins to plugins/."""
    package = folder / "kefu"
    package.mkdir()
    for entry in (ROOT / "core").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "plugins").symlink_to(ROOT / "plugins")
    return package


def main(argv: list[str]) -> int:
    """Run mypy on the package view; its exit code."""
    with tempfile.TemporaryDirectory(prefix="kefu-typecheck-") as tmp:
        package = build_view(Path(tmp))
        env = {**os.environ, "MYPYPATH": tmp}
        run = subprocess.run(
            [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "kefu", *argv],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for stream, text in ((sys.stdout, run.stdout), (sys.stderr, run.stderr)):
            # Report the real files, not the links (plugins first: they sit inside kefu/).
            text = text.replace(f"{package}/plugins/", "plugins/").replace("kefu/plugins/", "plugins/")
            text = text.replace(f"{package}/", "core/").replace("kefu/", "core/")
            stream.write(text)
        return run.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
