"""Packaging: the `engine` package, with the repository's top-level conf/ and grammar/ inside it.

Metadata lives in pyproject.toml; only what goes into the package is computed here. conf/ and
grammar/ stay at the repository's top level (where authors and docs find them) and install as
`engine/conf/**.yaml` and `engine/grammar/story.lark`; engine/resources.py finds them either way.
"""

from setuptools import find_namespace_packages, find_packages, setup

SHIPPED = {"engine.conf": "conf", "engine.grammar": "grammar"}
"""Installed package name → top-level folder it is built from."""

DATA_PACKAGES = [f"{package}.{sub}" if sub else package
                 for package, folder in SHIPPED.items()
                 for sub in ["", *find_namespace_packages(folder)]]
"""Each shipped folder and its subfolders (Hydra's config groups), as packages holding data."""

PLUGINS = find_namespace_packages(include=["hydra_plugins.*"])
"""storyreel's Hydra launchers: Hydra finds plugins only in the `hydra_plugins` namespace package,
which has no __init__.py of its own (other plugins' distributions add to it)."""

setup(
    packages=[*find_packages(include=["engine*"]), *PLUGINS, *DATA_PACKAGES],
    package_dir=SHIPPED,
    package_data={"engine": ["py.typed", "templates/**/*", "backends/safety_text/*.txt"],
                  **{name: ["*.yaml", "*.lark"] for name in DATA_PACKAGES}},
)
