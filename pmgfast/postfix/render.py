"""Render the Postfix entries for the pmgfast milter (before- or after-queue, re-injection).

The templates see every pmg.conf key as ``pmg.<section>.<key>`` (like every rendered file,
:mod:`pmgfast.render`) plus:

- ``mode``: ``before-queue`` or ``after-queue`` (default from ``mail.before_queue_filtering``);
- ``milter``: the pool's socket in Postfix's notation (``inet:127.0.0.1:10026``);
- ``ext``/``int``: the receiving services (``[listen:]port`` from ``mail.ext_port`` and
  ``mail.int_port``), ``reinject``: ``pmgfast.reinject_port``;
- ``scan_in``/``scan_out``: the after-queue filter smtpd ports (PMG's 10024 and 10023);
- ``filters``: the process limit of the after-queue filter path (``mail.max_filters``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmgfast.milter.client import parse_spec
from pmgfast.render.context import pmg_values
from pmgfast.render.engine import TemplateEngine

BUILTIN_DIR = Path(__file__).resolve().parent / "templates"
MAIN = "postfix-milter-main.cf.in"
MASTER = "postfix-milter-master.cf.in"
MODES = ("before-queue", "after-queue")


@dataclass(frozen=True)
class Rendered:
    mode: str
    main: str
    master: str


def postfix_milter_address(spec: str) -> str:
    """libmilter's ``inet:PORT@HOST`` / ``unix:/path`` as Postfix writes it."""
    _, address = parse_spec(spec)
    if isinstance(address, tuple):
        host, port = address
        return f"inet:[{host}]:{port}" if ":" in host else f"inet:{host}:{port}"
    return f"unix:{address}"


def render(
    conf: Any,
    config_dir: Path | None = None,
    mode: str | None = None,
    listen: str = "",
    scan_ports: tuple[int, int] = (10024, 10023),
) -> Rendered:
    """The main.cf and master.cf entries for ``conf`` (a :class:`~pmgfast.config.PmgConf`)."""
    context = wiring_context(conf, mode, listen, scan_ports)
    engine = TemplateEngine(config_dir, BUILTIN_DIR)
    return Rendered(
        str(context["mode"]), engine.render(MAIN, context), engine.render(MASTER, context)
    )


def wiring_context(
    conf: Any,
    mode: str | None = None,
    listen: str = "",
    scan_ports: tuple[int, int] = (10024, 10023),
) -> dict[str, object]:
    """The template variables of the milter wiring (the module docstring lists them); the
    full configuration of ``pmgfast config sync`` renders the same templates with them."""
    if mode is None:
        mode = "before-queue" if conf.get("mail", "before_queue_filtering") else "after-queue"
    if mode not in MODES:
        raise ValueError(f"unknown filtering mode {mode!r} (allowed: {', '.join(MODES)})")
    ext_port = conf.get("mail", "ext_port")
    int_port = conf.get("mail", "int_port")
    context = {
        "pmg": pmg_values(conf),
        "mode": mode,
        "milter": postfix_milter_address(str(conf.get("pmgfast", "milter_socket"))),
        "ext": f"{listen}:{ext_port}" if listen else str(ext_port),
        "int": f"{listen}:{int_port}" if listen else str(int_port),
        "reinject": conf.get("pmgfast", "reinject_port"),
        "scan_in": scan_ports[0],
        "scan_out": scan_ports[1],
        "filters": conf.get("mail", "max_filters") or "-",
    }
    return context
