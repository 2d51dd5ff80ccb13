"""Templates for rendered service configuration, with the admin's overrides first.

A template is looked up in ``<config dir>/templates/`` first, then in pmgfast's own
``pmgfast/render/templates/`` and ``pmgfast/postfix/templates/`` (PMG: ``/etc/pmg/templates``
over ``/var/lib/pmg/templates``).
Templates are Jinja2 (PMG uses Template Toolkit; the variables are the same: ``pmg.<section>.<key>``
for every pmg.conf key). An undefined variable is an error, never an empty string, so a typo in
an override fails ``config sync`` instead of writing a broken service configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import jinja2

BUILTIN_DIR = Path(__file__).resolve().parent / "templates"
# the Postfix templates live with the milter wiring they extend (issue 11)
BUILTIN_DIRS = (BUILTIN_DIR, Path(__file__).resolve().parent.parent / "postfix" / "templates")


class TemplateError(Exception):
    """A template that cannot be found, parsed or rendered; says which file and line."""


class TemplateEngine:
    """Renders named templates; :meth:`origin` tells which file (override or built-in) it used."""

    def __init__(
        self, config_dir: Path | None = None, builtin_dir: Path | tuple[Path, ...] = BUILTIN_DIRS
    ) -> None:
        self.override_dir = config_dir / "templates" if config_dir is not None else None
        self.builtin_dirs = builtin_dir if isinstance(builtin_dir, tuple) else (builtin_dir,)
        self.builtin_dir = self.builtin_dirs[0]
        search = [str(self.override_dir)] if self.override_dir is not None else []
        search += [str(d) for d in self.builtin_dirs]
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(search),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def origin(self, name: str) -> Path:
        if self.override_dir is not None and (self.override_dir / name).is_file():
            return self.override_dir / name
        for directory in self.builtin_dirs:
            if (directory / name).is_file():
                return directory / name
        return self.builtin_dir / name

    def render(self, name: str, context: Mapping[str, object]) -> str:
        try:
            return self._env.get_template(name).render(context)
        except jinja2.TemplateNotFound:
            raise TemplateError(f"template {name!r} not found in {self._dirs()}") from None
        except jinja2.TemplateSyntaxError as err:
            raise TemplateError(f"{err.filename or name}:{err.lineno}: {err.message}") from None
        except jinja2.UndefinedError as err:
            raise TemplateError(f"{self.origin(name)}: {err.message}") from None

    def _dirs(self) -> str:
        dirs = [self.override_dir, *self.builtin_dirs] if self.override_dir else self.builtin_dirs
        return ", ".join(str(d) for d in dirs)
