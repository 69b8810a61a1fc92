"""A tiny NNTP server on 127.0.0.1 (RFC 3977), enough for Python's nntplib as Perceval drives it.

Perceval's NNTP backend connects (welcome, CAPABILITIES), then sends GROUP, OVER first-last
(nntplib asks LIST OVERVIEW.FMT once) and ARTICLE n per article, and QUIT. Articles are raw
bytes keyed by number; ``missing`` numbers appear in the overview but ARTICLE answers 430,
as a server does for an expired or cancelled article.
"""

from __future__ import annotations

import email
import socketserver
import threading
from email.utils import parseaddr
from typing import Any

OVERVIEW_FMT = ["Subject:", "From:", "Date:", "Message-ID:", "References:", ":bytes", ":lines"]


class NNTPServer:
    def __init__(self, group: str) -> None:
        self.group = group
        self.articles: dict[int, bytes] = {}
        self.missing: set[int] = set()
        self.commands: list[str] = []
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str, body: list[bytes] | None = None) -> None:
                self.wfile.write(line.encode() + b"\r\n")
                if body is not None:
                    for raw in body:
                        self.wfile.write((b"." + raw if raw.startswith(b".") else raw) + b"\r\n")  # dot-stuffing
                    self.wfile.write(b".\r\n")
                self.wfile.flush()

            def handle(self) -> None:
                self.reply("200 news.example.org InterNetNews NNRP server ready (posting ok)")
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace").strip()
                    server.commands.append(line)
                    verb, _, arg = line.partition(" ")
                    verb = verb.upper()
                    if verb == "QUIT":
                        self.reply("205 Bye!")
                        return
                    self.dispatch(verb, arg)

            def dispatch(self, verb: str, arg: str) -> None:
                numbers = sorted(server.articles.keys() | server.missing)
                if verb == "CAPABILITIES":
                    self.reply(
                        "101 Capability list:", [b"VERSION 2", b"READER", b"OVER", b"IMPLEMENTATION tiny-test-nntpd"]
                    )
                elif verb == "MODE" and arg.upper() == "READER":
                    self.reply("200 Posting allowed")
                elif verb == "GROUP":
                    if arg != server.group:
                        self.reply("411 No such group")
                    else:
                        first, last = (numbers[0], numbers[-1]) if numbers else (1, 0)
                        self.reply(f"211 {len(numbers)} {first} {last} {arg}")
                elif verb == "LIST" and arg.upper() == "OVERVIEW.FMT":
                    self.reply("215 Order of fields in overview database.", [f.encode() for f in OVERVIEW_FMT])
                elif verb in ("OVER", "XOVER"):
                    low, _, high = arg.partition("-")
                    rows = [
                        server.overview(n) for n in numbers if int(low) <= n <= (int(high) if high else numbers[-1])
                    ]
                    self.reply("224 Overview information follows", rows)
                elif verb == "ARTICLE":
                    number = int(arg) if arg.isdigit() else -1
                    if number not in server.articles:
                        self.reply("430 No such article")
                    else:
                        raw = server.articles[number]
                        self.reply(f"220 {number} {server.message_id(number)} article", raw.split(b"\n"))
                else:
                    self.reply("500 What?")

        self.tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.tcp.daemon_threads = True
        self.port = self.tcp.server_address[1]
        self.thread = threading.Thread(target=self.tcp.serve_forever, daemon=True)
        self.thread.start()

    def add(self, number: int, raw: bytes) -> None:
        self.articles[number] = raw.replace(b"\r\n", b"\n").rstrip(b"\n")
        self.missing.discard(number)

    def headers(self, number: int) -> Any:
        return email.message_from_bytes(self.articles[number]) if number in self.articles else None

    def message_id(self, number: int) -> str:
        headers = self.headers(number)
        return headers["Message-ID"] if headers is not None else f"<gone-{number}@news.example.org>"

    def overview(self, number: int) -> bytes:
        headers = self.headers(number)
        if headers is None:
            return f"{number}\t\t\t\t{self.message_id(number)}\t\t0\t0".encode()
        raw = self.articles[number]
        fields = [
            headers.get("Subject", ""),
            parseaddr(headers.get("From", ""))[1],
            headers.get("Date", ""),
            headers["Message-ID"],
            headers.get("References", ""),
            str(len(raw)),
            str(raw.count(b"\n")),
        ]
        return "\t".join([str(number), *fields]).encode()

    def close(self) -> None:
        self.tcp.shutdown()
        self.tcp.server_close()
