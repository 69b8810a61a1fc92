"""Links without the database: normalising a URL for de-duplication, and reading a page's title.

The title fetch is SSRF-minded: only http(s), no credentials in the URL, every address the host resolves
to must be public (unless ``LINK_FETCH_PRIVATE`` allows an intranet), redirects are followed by hand and
checked again, and the read is bounded in time and size.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import time
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from django.conf import settings

from townsquare.core.errors import TownsquareError

SCHEMES = {"http": 80, "https": 443}
# Query parameters that only say where a click came from: the same page with or without them is one link.
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "igshid",
        "yclid",
    }
)
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
MAX_BYTES = 256 * 1024
MAX_REDIRECTS = 3
# A page that trickles bytes resets the read timeout at every chunk: bound the whole read as well.
TOTAL_SECONDS = 10.0
USER_AGENT = "Townsquare link preview (self-hosted DevRel hub)"


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _split(url: str) -> tuple[str, str, int | None, str, str]:
    """(scheme, host, port, path, query) of an http(s) URL, or a refusal naming the reason."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TownsquareError(f"is not a valid URL ({exc})", record=url) from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TownsquareError("only http:// and https:// links can be dropped", record=url)
    if not parts.hostname:
        raise TownsquareError("has no host name", record=url)
    if parts.username or parts.password:
        raise TownsquareError("must not contain a user name or password", record=url)
    return scheme, parts.hostname.lower().rstrip("."), port, parts.path, parts.query


def clean_url(url: str) -> str:
    """The link as we keep and publish it: tracking parameters removed, fragment and everything else kept."""
    scheme, host, port, path, query = _split(url)
    netloc = host if port in (None, SCHEMES[scheme]) else f"{host}:{port}"
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _is_tracking(k)]
    fragment = urlsplit(url.strip()).fragment
    return urlunsplit((scheme, netloc, path or "/", urlencode(kept, doseq=True), fragment))


def normalise_url(url: str) -> str:
    """The key two drops of one page share: lower-case scheme and host, no default port, no trailing
    slash, no tracking parameters (the rest sorted), no fragment."""
    scheme, host, port, path, query = _split(url)
    netloc = host if port in (None, SCHEMES[scheme]) else f"{host}:{port}"
    path = path.rstrip("/") or "/"
    kept = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _is_tracking(k))
    return urlunsplit((scheme, netloc, path, urlencode(kept), ""))


def url_key(url: str) -> str:
    return hashlib.sha256(normalise_url(url).encode()).hexdigest()


class _TitleParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_title = False
        self.done = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.done:
            self.in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.in_title:
            self.in_title = False
            self.done = True

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.parts.append(data)


def title_from_html(html: str) -> str:
    parser = _TitleParser()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())[:300]


def _check_host(url: str) -> None:
    _scheme, host, port, _path, _query = _split(url)
    if settings.LINK_FETCH_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TownsquareError("the host name does not resolve", record=url) from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise TownsquareError("points to a private or local address; the title is not fetched", record=url)


def fetch_title(url: str) -> str:
    """The page's <title>, or "" for a page that is not HTML. Refuses a page that does not answer."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        _check_host(current)
        try:
            response = requests.get(
                current,
                headers={"User-Agent": USER_AGENT, "Accept": "text/html"},
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise TownsquareError("the page did not answer in time", record=url) from exc
        except requests.RequestException as exc:
            raise TownsquareError(f"the page does not answer ({type(exc).__name__})", record=url) from exc
        with response:
            if response.is_redirect and response.headers.get("Location"):
                current = urljoin(current, response.headers["Location"])
                continue
            if response.status_code >= 400:
                raise TownsquareError(f"the page answered HTTP {response.status_code}", record=url)
            if "html" not in response.headers.get("Content-Type", "text/html").lower():
                return ""
            body = b""
            deadline = time.monotonic() + TOTAL_SECONDS
            try:
                for chunk in response.iter_content(16 * 1024):
                    if time.monotonic() > deadline:
                        raise TownsquareError("the page took too long to send", record=url)
                    body += chunk
                    if len(body) >= MAX_BYTES or b"</title>" in body.lower():
                        break
            except requests.RequestException as exc:
                raise TownsquareError("the page stopped answering", record=url) from exc
            return title_from_html(body[:MAX_BYTES].decode(response.encoding or "utf-8", errors="replace"))
    raise TownsquareError(f"the page redirects more than {MAX_REDIRECTS} times", record=url)
