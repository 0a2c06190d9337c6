"""A task's allowed_urls enforced on every hop its browser makes.

Playwright routes only the first URL of a redirect chain, and WebSockets and service workers
bypass request routing. So when a task restricts URLs, every request is made here instead of by
the browser: each redirect is followed by hand and its target checked before it is requested, a
WebSocket is let through or closed by its URL, and service workers are turned off.

A navigation whose redirects all stay inside the list is answered with one redirect to the
checked final URL (so the page has its true URL); other requests get the final response itself.

A document answered this way has no network address in Chromium's eyes, so its Local Network
Access checks treat it as a public page and refuse its WebSockets to loopback and private hosts
(``ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS``), sockets that are allowed and that the same page
loaded straight from that host may open. A document from such a host is granted that access
again, for its own origin; a public page gets nothing it would not have had.

These checks give pages and logs their messages. The guarantee under them is the proxy every
connection of such a context passes (proxy.py): what routing never sees (a preconnect, WebRTC)
is judged there.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from playwright.async_api import APIResponse, BrowserContext, Route, WebSocketRoute
from playwright.async_api import Error as PlaywrightError

from .loggable import scrub_urls, url_for_log
from .url_policy import UrlPolicy

log = logging.getLogger("smooth_agents.local.guard")

MAX_REDIRECTS = 20
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class PolicyGuard:
    """Routes one browser context's traffic through a task's URL policy."""

    def __init__(self, policy: UrlPolicy) -> None:
        self.policy = policy
        self.blocked: list[str] = []  # URLs refused, in order (tests and logs read them)
        self._context: BrowserContext | None = None
        self._local_origins: set[str] = set()  # origins granted local network access

    @staticmethod
    def context_options(policy: UrlPolicy) -> dict[str, Any]:
        # Requests a service worker makes are not routed: no service workers under a policy.
        return {"service_workers": "block"} if policy.restricts else {}

    async def attach(self, context: BrowserContext) -> None:
        if self.policy.restricts:
            self._context = context
            await context.route("**/*", self._request)
            await context.route_web_socket(re.compile(".*"), self._socket)

    def _block(self, url: str) -> None:
        self.blocked.append(url)
        log.info("blocked by allowed_urls: %s", url_for_log(url))  # not what it carried

    async def _socket(self, socket: WebSocketRoute) -> None:
        if self.policy.allows_socket(socket.url):
            socket.connect_to_server()
        else:
            self._block(socket.url)
            await socket.close(code=1008, reason="blocked by this task's allowed_urls")

    async def _request(self, route: Route) -> None:
        request = route.request
        if not self.policy.allows(request.url):
            self._block(request.url)
            await route.abort("blockedbyclient")
            return
        if request.url.startswith(("data:", "blob:", "about:")):
            await route.continue_()
            return
        try:
            final_url, response = await self._follow(route)
        except _Blocked as blocked:
            self._block(blocked.url)
            await route.abort("blockedbyclient")
            return
        except PlaywrightError as exc:  # the host did not answer: the page sees a network error
            log.debug("request failed: %s", scrub_urls(str(exc)))
            await route.abort("connectionfailed")
            return
        if request.is_navigation_request():
            await self._restore_local_network_access(final_url)
        if final_url != request.url and request.is_navigation_request():
            # The browser loads the checked final URL itself, so the document has its true URL.
            await route.fulfill(status=302, headers={"location": final_url})
        else:
            await route.fulfill(response=response)

    async def _restore_local_network_access(self, url: str) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if self._context is None or origin in self._local_origins or not _is_local_host(parts.hostname):
            return
        self._local_origins.add(origin)
        try:
            await self._context.grant_permissions(["local-network-access"], origin=origin)
        except PlaywrightError as exc:  # a Chromium without the permission has no such checks
            log.debug("local network access not granted to %s: %s", url_for_log(origin), exc)

    async def _follow(self, route: Route) -> tuple[str, APIResponse]:
        """The request made here, each redirect checked before it is followed."""
        request = route.request
        url, method, body = request.url, request.method, request.post_data_buffer
        response = await route.fetch(max_redirects=0)
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                return url, response
            target = urljoin(url, location)
            if not self.policy.allows(target):
                raise _Blocked(target)
            if response.status in (301, 302, 303) and method not in ("GET", "HEAD"):
                method, body = "GET", None  # as browsers do
            url = target
            response = await route.fetch(url=url, method=method, post_data=body, max_redirects=0)
        raise _Blocked(url)  # a redirect loop


def _is_local_host(host: str | None) -> bool:
    """A loopback or private address, or localhost: where Local Network Access checks apply."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: its address is not known here
    return address.is_loopback or address.is_private or address.is_link_local


class _Blocked(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url
