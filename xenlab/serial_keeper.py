"""The reader of a lab that outlives its process (`xenlab up`): serial.log, and a console to attach.

QEMU's socket chardev takes one client and throws bytes away while it has none, so a lab
left running between `xenlab` commands needs a reader of its own. This one connects to
QEMU's serial socket before the machine runs, writes every byte to serial.log (the same
way xenlab.console does for a lab inside one process) and relays both directions to the
one client of `console.sock` (the newest connection wins). What the client cannot take at
once waits here, so QEMU, Xen and dom0 never wait on a slow client. It ends when QEMU
closes the serial socket.

    python -m xenlab.serial_keeper RUN_DIR
"""

from __future__ import annotations

import selectors
import socket
import sys
from pathlib import Path

from xenlab.console import SerialRecord
from xenlab.machine import connect_socket, run_socket

CHUNK = 65536


def keep(run_dir: Path) -> None:
    qemu = connect_socket(run_dir, "serial")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path = run_socket(run_dir, "console")
    path.unlink(missing_ok=True)
    listener.bind(str(path))
    listener.listen(1)
    record = SerialRecord(run_dir / "serial.log")
    sel = selectors.DefaultSelector()
    sel.register(qemu, selectors.EVENT_READ, "qemu")
    sel.register(listener, selectors.EVENT_READ, "listener")
    client: socket.socket | None = None
    pending = bytearray()  # what the client has not taken yet

    def drop_client() -> None:
        nonlocal client
        if client is not None:
            sel.unregister(client)
            client.close()
            client = None
        pending.clear()

    while True:
        for key, events in sel.select():
            if key.data == "listener":
                drop_client()
                client, _ = listener.accept()
                client.setblocking(False)
                sel.register(client, selectors.EVENT_READ, "client")
            elif key.data == "qemu":
                data = qemu.recv(CHUNK)
                if not data:
                    return
                record.write(data)
                if client is not None:
                    pending += data
            elif key.data == "client" and client is not None:
                if events & selectors.EVENT_READ:
                    data = _recv(client)
                    if data:
                        qemu.sendall(data)
                    elif data is not None:
                        drop_client()
                        continue
                if events & selectors.EVENT_WRITE:
                    del pending[:_send(client, pending)]
        if client is not None:
            sel.modify(client, selectors.EVENT_READ | (selectors.EVENT_WRITE if pending else 0),
                       "client")


def _recv(sock: socket.socket) -> bytes | None:
    """What the client typed; None for nothing yet, b"" once it has gone."""
    try:
        return sock.recv(CHUNK)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


def _send(sock: socket.socket, data: bytearray) -> int:
    try:
        return sock.send(data)
    except (BlockingIOError, InterruptedError):
        return 0
    except OSError:
        return len(data)


if __name__ == "__main__":
    keep(Path(sys.argv[1]))
