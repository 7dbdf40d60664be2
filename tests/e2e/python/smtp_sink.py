"""An SMTP sink for the end-to-end run: a real SMTP server (aiosmtpd) on loopback that accepts
every message and stores it, as received, in a directory: one file per message, named
`000001.eml`, `000002.eml`, … in the order of arrival. Each file is written under a temporary
name and then renamed, so a reader never sees half a message.

As a final delivery agent would (RFC 5321 §4.4), it puts a `Return-Path` header with the
envelope sender, and one `Delivered-To` header per envelope recipient, above the message.

    python smtp_sink.py --maildir DIR [--host 127.0.0.1] [--port 0] [--port-file FILE]

`--port 0` (the default) lets the system choose a free port; the port is printed and, with
`--port-file`, written to that file (under a temporary name, then renamed) once the server
accepts connections. SIGTERM or SIGINT stops it. run.sh starts it for each backend, with the
directory `artifacts/<backend>/mail/`, and hands that directory to the suites as E2E_MAILDIR.
It offers neither TLS nor AUTH: the server under test is told `smtp_tls = "none"`, which Tessera
allows to a loopback host.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

NAME = re.compile(r"^(\d+)\.eml$")


class MaildirHandler:
    """aiosmtpd handler: every DATA becomes the next numbered file of `maildir`."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        numbers = [int(m.group(1)) for p in maildir.iterdir() if (m := NAME.match(p.name))]
        self.last = max(numbers, default=0)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        sender = envelope.mail_from or ""
        trace = f"Return-Path: <{sender}>\r\n" + "".join(f"Delivered-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos)
        self.last += 1
        name = f"{self.last:06d}.eml"
        temporary = self.maildir / f".{name}.tmp"
        temporary.write_bytes(trace.encode("utf-8") + content)
        os.replace(temporary, self.maildir / name)
        print(
            f"smtp-sink: stored {name}: from <{sender}> to {', '.join(f'<{r}>' for r in envelope.rcpt_tos)}, {len(content)} bytes",
            flush=True,
        )
        return "250 OK: stored"


async def serve(args: argparse.Namespace) -> None:
    maildir = Path(args.maildir)
    maildir.mkdir(parents=True, exist_ok=True)
    handler = MaildirHandler(maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        # hostname: no reverse lookup of this machine's name at every connection.
        lambda: SMTP(handler, hostname="smtp-sink.test", enable_SMTPUTF8=True, decode_data=False),
        host=args.host,
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        port_file = Path(args.port_file)
        temporary = port_file.with_name(f".{port_file.name}.tmp")
        temporary.write_text(f"{port}\n", encoding="ascii")
        os.replace(temporary, port_file)
    print(f"smtp-sink: listening on {args.host}:{port}, storing mails in {maildir}", flush=True)

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()
    print(f"smtp-sink: stopped after {handler.last} message(s)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--maildir", required=True, help="where the messages are stored")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 (default) picks a free one")
    parser.add_argument("--port-file", help="a file to write the port to once the server listens")
    args = parser.parse_args()
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
