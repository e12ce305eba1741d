# The asyncio-await experiment's program, run as
#
#   python3 -c <this> HOST PORT DELAY_MS WAITS TASKS
#
# One event loop, on one thread, runs TASKS counting tasks: each does a
# small chunk of arithmetic and then `await asyncio.sleep(0)`, over and
# over, counting its chunks. Beside them one more task talks to the slow
# local server at HOST:PORT, which answers each query after DELAY_MS:
#
#   baseline  the counting tasks run alone for DELAY_MS: their usual pace;
#   await     the talking task sends WAITS queries one after another and
#             awaits each answer on an asyncio stream (real I/O on a socket);
#   blocking  the same queries on a plain blocking socket, no await.
#
# It prints one JSON object per line: the interpreter, the baseline pace,
# and for every wait its start and end (seconds, perf_counter) and the
# chunks the other tasks finished meanwhile.
import asyncio
import json
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 2000  # arithmetic rounds between two yields: a few tens of µs


def emit(obj):
    os.write(1, (json.dumps(obj) + "\n").encode())


def query(delay_ms):
    # 'Q', the delay in µs and an empty payload (internal/kit/slowserver.go).
    return b"Q" + struct.pack(">II", delay_ms * 1000, 0)


class Counters:
    def __init__(self, n):
        self.n, self.chunks, self.stop, self.threads = n, 0, False, set()

    async def run(self, i):
        self.threads.add(threading.get_ident())
        x = i + 1
        while not self.stop:
            for _ in range(CHUNK):
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            self.chunks += 1
            await asyncio.sleep(0)  # the only place this task lets others run

    def start(self):
        self.stop = False
        return [asyncio.create_task(self.run(i)) for i in range(self.n)]

    async def finish(self, tasks):
        self.stop = True
        await asyncio.gather(*tasks)


async def baseline(c, delay_ms):
    tasks = c.start()
    await asyncio.sleep(0)
    t0, n0 = time.perf_counter(), c.chunks
    await asyncio.sleep(delay_ms / 1000)
    t1, n1 = time.perf_counter(), c.chunks
    await c.finish(tasks)
    emit({"event": "baseline", "seconds": t1 - t0, "chunks": n1 - n0})


async def awaiting(c, host, port, delay_ms, waits):
    reader, writer = await asyncio.open_connection(host, port)
    tasks = c.start()
    await asyncio.sleep(0.01)  # let the counters get going
    # snippet:asyncio-await
    for i in range(waits):
        t0, n0 = time.perf_counter(), c.chunks
        writer.write(query(delay_ms))
        await writer.drain()
        (n,) = struct.unpack(">I", await reader.readexactly(4))  # the loop runs the others meanwhile
        if n:
            await reader.readexactly(n)
        t1, n1 = time.perf_counter(), c.chunks  # the other tasks' chunks, counted meanwhile
        # end snippet
        emit({"event": "wait", "mode": "await", "i": i, "start": t0, "end": t1, "others": n1 - n0,
              "thread": threading.get_ident()})
        await asyncio.sleep(0.005)
    await c.finish(tasks)
    writer.close()
    await writer.wait_closed()


async def blocking(c, host, port, delay_ms, waits):
    sock = socket.create_connection((host, port))
    tasks = c.start()
    await asyncio.sleep(0.01)
    for i in range(waits):
        t0, n0 = time.perf_counter(), c.chunks
        # snippet:asyncio-blocking
        sock.sendall(query(delay_ms))
        head = b""
        while len(head) < 4:  # a plain blocking read: the loop waits with it
            part = sock.recv(4 - len(head))
            if not part:
                raise ConnectionError("the local server closed the connection")
            head += part
        (n,) = struct.unpack(">I", head)
        while n:
            n -= len(sock.recv(n))
        # end snippet
        t1, n1 = time.perf_counter(), c.chunks
        emit({"event": "wait", "mode": "blocking", "i": i, "start": t0, "end": t1, "others": n1 - n0,
              "thread": threading.get_ident()})
        await asyncio.sleep(0.005)
    await c.finish(tasks)
    sock.close()


async def main():
    host, port, delay_ms, waits, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    emit({"event": "probe", "version": sys.version.split()[0], "implementation": sys.implementation.name,
          "executable": sys.executable})
    c = Counters(n)
    await baseline(c, delay_ms)
    await awaiting(c, host, port, delay_ms, waits)
    await blocking(c, host, port, delay_ms, waits)
    emit({"event": "threads", "n": len(c.threads | {threading.get_ident()}), "chunks": c.chunks})


asyncio.run(main())
