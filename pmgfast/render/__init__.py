"""Service configuration rendered from templates: ``pmgfast config sync`` (PMG: ``pmgconfig sync``).

- :mod:`~pmgfast.render.engine`: Jinja2 templates, ``<config dir>/templates/`` before the
  built-in ones.
- :mod:`~pmgfast.render.context`: the template variables (``pmg.*``, ``proxy.*``, ``clamd.*``).
- :mod:`~pmgfast.render.targets`: the table of (template, target path, service) entries.
- :mod:`~pmgfast.render.sync`: render, compare, write what changed, restart its services.
"""

from pmgfast.render.context import build_context
from pmgfast.render.engine import TemplateEngine, TemplateError
from pmgfast.render.sync import Rendered, ServiceError, apply, plan, restart_services
from pmgfast.render.targets import Target, default_targets

__all__ = [
    "Rendered",
    "ServiceError",
    "Target",
    "TemplateEngine",
    "TemplateError",
    "apply",
    "build_context",
    "default_targets",
    "plan",
    "restart_services",
]
