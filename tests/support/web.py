"""HTTP from a test: a tiny JSON client, and a console browser that keeps cookies."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from http.cookiejar import CookieJar
from typing import Any

from tests.support.environment import STAFF_PASSWORD


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         raw: bytes | None = None, timeout: float = 30) -> tuple[int, Any, dict[str, str]]:
    """A tiny HTTP client: (status, parsed JSON or text, headers)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None and raw is None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status, payload, resp_headers = resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        status, payload, resp_headers = exc.code, exc.read(), dict(exc.headers)
    text = payload.decode("utf-8", "replace")
    try:
        return status, json.loads(text), resp_headers
    except ValueError:
        return status, text, resp_headers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@dataclass
class Browser:
    """A cookie-keeping HTTP client that shows redirects instead of following them."""

    base: str
    jar: CookieJar = field(default_factory=CookieJar)

    def request(self, method: str, path: str, form: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str, Message]:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                             NoRedirect)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers or {})
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), exc.headers

    def get(self, path: str, **kwargs) -> tuple[int, str, Message]:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict[str, str], **kwargs) -> tuple[int, str, Message]:
        return self.request("POST", path, form, **kwargs)

    def login(self, username: str, password: str = STAFF_PASSWORD
              ) -> tuple[int, str, Message]:
        _, page, _ = self.get("/console/login")
        return self.post("/console/login", {"csrf_token": csrf(page), "username": username,
                                            "password": password, "next": "/console"})


def csrf(page: str) -> str:
    """The CSRF token of a console form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)
