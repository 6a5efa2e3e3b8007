#!/usr/bin/env python3
"""Usage: scripts/disconnect-storm.py HOST:PORT [SECONDS] [PATH...]

Clients that hang up mid-page: for SECONDS (default 5) seconds, 32 concurrent
connections each request a page and then reset the connection (SO_LINGER 0)
after a random delay of up to 5, 100 or 300 ms, before or while the
answer streams in. A browser does this whenever a user clicks on before a page has
loaded. The server must shrug it off: run by scripts/load-smoke.sh, which then
fails on any "panicked" in the server log. Exits non-zero only if the server
stops accepting connections.
"""
import asyncio
import random
import socket
import struct
import sys
import time

DEFAULT_PATHS = [
    "/", "/search?q=fluent", "/u/fluentorg", "/r/fluentorg/fluent-bit",
    "/u/fluentorg/program", "/program", "/signin", "/u/fluentorg/insights",
]


async def one(host, port, path, stats):
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        stats["refused"] += 1
        return
    req = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/html\r\n\r\n"
    writer.write(req.encode())
    try:
        await writer.drain()
        # Before the answer starts, while it waits on the database, mid-stream.
        await asyncio.sleep(random.uniform(0, random.choice([0.005, 0.1, 0.3])))
        # Read whatever has arrived, without waiting for the rest.
        try:
            await asyncio.wait_for(reader.read(random.choice([0, 512, 4096])), 0.001)
        except asyncio.TimeoutError:
            pass
    except OSError:
        pass
    sock = writer.get_extra_info("socket")
    if sock is not None:
        # An abortive close (RST), as a browser tab that navigates away.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
    stats["aborted"] += 1


async def worker(host, port, paths, deadline, stats):
    while time.monotonic() < deadline:
        await one(host, port, random.choice(paths), stats)


async def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    host, port = sys.argv[1].rsplit(":", 1)
    secs = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    paths = sys.argv[3:] or DEFAULT_PATHS
    stats = {"aborted": 0, "refused": 0}
    deadline = time.monotonic() + secs
    await asyncio.gather(*(worker(host, int(port), paths, deadline, stats) for _ in range(32)))
    # Give requests the server is still rendering for gone clients time to end.
    await asyncio.sleep(1.0)
    print(f"disconnect-storm: {stats['aborted']} requests cut short, {stats['refused']} refused")
    return 1 if stats["refused"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
