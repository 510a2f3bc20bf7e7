"""The staff console at /console (SPEC §7): server-rendered pages, a little JavaScript.

- :mod:`~server.console.routes`: every URL and its handler (``add_routes``);
- :mod:`~server.console.templating`: the Jinja environment, security headers, responses;
- :mod:`~server.console.auth`: login, logout, sessions, CSRF, the trusted-device cookie;
- :mod:`~server.console.conversations`: the queue, a conversation and what an agent does;
- :mod:`~server.console.admin`: accounts, staffed hours, holidays, canned replies, held SMS;
- :mod:`~server.console.analytics` (+ :mod:`~server.console.charts`): the operators' figures;
- :mod:`~server.console.learn`: the learning inbox;
- :mod:`~server.console.records`: search of past conversations, the audit log.
"""

from server.console.routes import add_routes

__all__ = ["add_routes"]
