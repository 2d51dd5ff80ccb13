"""Postfix integration: the main.cf and master.cf entries that put pmgfast in the mail path.

:func:`~pmgfast.postfix.render.render` fills two templates (``postfix-milter-main.cf.in``,
``postfix-milter-master.cf.in``; an admin's copies in ``<config dir>/templates/`` win) for
before-queue filtering (``smtpd_milters`` on the receiving ports) or after-queue filtering
(``content_filter`` to a second smtpd that runs the milter), plus the re-injection smtpd that
pmgfast sends split copies, notifications and NDRs through. ``pmgfast config postfix`` prints
them; the end-to-end tests configure a private Postfix with nothing else.
"""

from pmgfast.postfix.render import Rendered, postfix_milter_address, render

__all__ = ["Rendered", "postfix_milter_address", "render"]
