"""Maps the top-level layer folders to `caseledger.<layer>` (setuptools package-dir).

pyproject.toml holds everything else; only the package list is computed here, because
setuptools' `packages.find` cannot add the `caseledger.` prefix by itself.
"""

from setuptools import find_packages, setup

LAYERS = ("domain", "projections", "adapters")

setup(
    packages=[
        f"caseledger.{name}" for name in find_packages(include=[f"{layer}*" for layer in LAYERS])
    ],
    package_dir={f"caseledger.{layer}": layer for layer in LAYERS},
)
