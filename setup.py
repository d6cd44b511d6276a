"""Package list for the core/ and plugins/ folders installed under the name `kefu`."""

from setuptools import find_packages, setup


def _packages(folder: str, prefix: str) -> list[str]:
    return [prefix] + [f"{prefix}.{name}" for name in find_packages(folder)]


setup(packages=_packages("core", "kefu") + _packages("plugins", "kefu.plugins"))
