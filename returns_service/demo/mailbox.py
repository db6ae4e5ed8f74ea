"""The demo's SMTP sink: accepts every message and stores it in the demo mailbox folder,
where the console's Demo mailbox page reads it. Run by `bin/demo` as its own process:

    python -m returns_service.demo.mailbox --port 8025 --dir instance/demo-mailbox

Needs aiosmtpd (the `demo` extra). Nothing is relayed anywhere: it is a sink.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from returns_service.demo.mailbox_store import store


class StoringHandler:
    """aiosmtpd handler: every accepted message becomes one file in `folder`."""

    def __init__(self, folder: Path):
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        store(self.folder, envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def serve(folder: Path, host: str, port: int) -> Controller:
    """Start the sink in a background thread; the caller stops it with `.stop()`."""
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(StoringHandler(folder), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="SMTP sink for the returns-service demo.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, required=True, help="folder to store .eml files")
    args = parser.parse_args(argv)
    controller = serve(args.dir, args.host, args.port)
    print(f"Demo mailbox: SMTP on {args.host}:{args.port}, storing in {args.dir}", flush=True)
    stop = threading.Event()
    # bin/demo stops its children with SIGTERM; Ctrl-C in a terminal sends SIGINT.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
