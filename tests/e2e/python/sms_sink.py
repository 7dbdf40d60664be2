"""An SMS provider for the end-to-end run: a real HTTP server on loopback that accepts the text
messages Tessera's HTTP SMS sender posts (`sms_transport = "http"`, a JSON body
`{"to": "{to}", "text": "{text}"}`, a bearer token) and stores each, as received, in a
directory: one file per message, `000001.json`, `000002.json`, … in the order of arrival, each
written under a temporary name and then renamed, so a reader never sees half a message.

    python sms_sink.py --dir DIR --token TOKEN [--host 127.0.0.1] [--port 0] [--port-file FILE]

A request without the bearer token gets 401, a body that is not a JSON object with string
`to` and `text` gets 400, and neither is stored: the sender's configuration is checked as a
provider would check it. `--port 0` lets the system choose; the port is written to
`--port-file` once the server accepts connections. SIGTERM or SIGINT stops it. run.sh starts
it for each backend with `artifacts/<backend>/sms/` and hands that directory to the suites as
E2E_SMSDIR.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NAME = re.compile(r"^(\d+)\.json$")
MAX_BODY = 64 * 1024


class Sink:
    def __init__(self, directory: Path, token: str) -> None:
        self.directory = directory
        self.token = token
        self.lock = threading.Lock()
        numbers = [int(m.group(1)) for p in directory.iterdir() if (m := NAME.match(p.name))]
        self.last = max(numbers, default=0)

    def store(self, message: dict) -> str:
        with self.lock:
            self.last += 1
            name = f"{self.last:06d}.json"
            temporary = self.directory / f".{name}.tmp"
            temporary.write_text(json.dumps(message, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, self.directory / name)
            return name


def handler_for(sink: Sink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            # One line per request, never the body (it holds a one-time code).
            sys.stderr.write(f"sms-sink: {self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            expected = f"Bearer {sink.token}".encode()
            given = self.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                self.answer(401, {"error": "unauthorized"})
                return
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self.answer(413, {"error": "too large"})
                return
            try:
                message = json.loads(self.rfile.read(length))
            except ValueError:
                self.answer(400, {"error": "not JSON"})
                return
            if not (isinstance(message, dict) and isinstance(message.get("to"), str) and isinstance(message.get("text"), str)):
                self.answer(400, {"error": "to and text are required strings"})
                return
            name = sink.store({"to": message["to"], "text": message["text"], "content_type": self.headers.get("content-type")})
            self.answer(202, {"id": name})

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--token", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default=0, type=int)
    parser.add_argument("--port-file", type=Path)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer((args.host, args.port), handler_for(Sink(args.dir, args.token)))
    port = server.server_address[1]
    print(f"sms-sink: listening on {args.host}:{port}, messages in {args.dir}", flush=True)
    if args.port_file:
        temporary = args.port_file.with_name(f".{args.port_file.name}.tmp")
        temporary.write_text(str(port))
        os.replace(temporary, args.port_file)

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
