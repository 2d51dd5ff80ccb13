"""The variables every template sees.

- ``pmg``: every pmg.conf key with its effective value, as ``pmg.<section>.<key>`` (the names
  ``pmgfast config dump`` prints, and PMG's template variables).
- ``proxy``: ``admin.http_proxy`` split into ``host``, ``port``, ``username``, ``password``
  (all empty when no proxy is set), as PMG's templates use it.
- ``clamd``: the ClamAV layout (sockets, paths, user; :class:`~pmgfast.clamav.layout.ClamdLayout`).

Issue 11 adds Postfix's variables the same way: one more entry here.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from pmgfast.clamav.layout import SYSTEM, ClamdLayout
from pmgfast.config.pmgconf import PmgConf


def pmg_values(conf: PmgConf) -> dict[str, dict[str, object]]:
    values: dict[str, dict[str, object]] = {}
    for key, value, _ in conf.items():
        values.setdefault(key.section, {})[key.name] = value
    return values


def proxy_values(url: object) -> dict[str, object]:
    empty: dict[str, object] = {"host": "", "port": "", "username": "", "password": ""}
    if not isinstance(url, str) or not url.strip():
        return empty
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return empty
    return {
        "host": parts.hostname or "",
        "port": port or (443 if parts.scheme == "https" else 80),
        "username": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
    }


def build_context(conf: PmgConf, clamd: ClamdLayout = SYSTEM) -> dict[str, object]:
    pmg = pmg_values(conf)
    return {
        "pmg": pmg,
        "proxy": proxy_values(pmg.get("admin", {}).get("http_proxy")),
        "clamd": clamd.template_vars(),
    }
