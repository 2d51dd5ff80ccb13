"""Build rules for the pmgfast distribution (the Cython side).

Apply the first rule that fits:
1. ``PMGFAST_NO_EXTENSIONS=1`` at build time: a pure build, no compiled module at all.
2. Cython importable: every ``ext/<name>.pyx`` listed in ``EXTENSIONS`` is compiled into the
   module named beside it.
3. Otherwise: a pure build, with a banner saying so.

The Rust hot paths are not built here: they live in ``rust/`` and are built by maturin into
their own distribution, ``pmgfast-native`` (the way pydantic depends on pydantic-core).
"""

import os
import sys

from setuptools import Extension, setup

# module name -> Cython source. Each module has a pure-Python twin named in its docstring.
EXTENSIONS: dict[str, str] = {
    "pmgfast.bayes._tokenizer": "ext/bayes_tokenizer.pyx",
}


def _extensions() -> list[Extension]:
    if os.environ.get("PMGFAST_NO_EXTENSIONS") == "1":
        print("* Pure build (PMGFAST_NO_EXTENSIONS=1) *", file=sys.stderr)
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("* Pure build (Cython not installed) *", file=sys.stderr)
        return []
    print("* Accelerated build *", file=sys.stderr)
    modules = [
        Extension(name, [source], extra_compile_args=["-O3"]) for name, source in EXTENSIONS.items()
    ]
    return cythonize(
        modules,
        language_level="3",
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    )


setup(ext_modules=_extensions())
