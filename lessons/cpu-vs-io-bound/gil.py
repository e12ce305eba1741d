# The python-gil experiment's program, run as
#
#   python3 -c <this> N WORK_MS ROUNDS [threads]
#
# It says which interpreter it is and whether it has a GIL, and stops there
# if it has none (unless asked for the threads only: that is how the
# free-threaded build is measured). Otherwise it calibrates a pure-Python loop to take WORK_MS
# on one thread, then, ROUNDS times, runs that loop split among 1 thread,
# N threads, 1 forked process and N forked processes. It prints one JSON
# object per line on stdout as it goes; the Go side reads them live.
#
# Every worker prints when it started and ended, in seconds since its
# variant began (perf_counter is the system's monotonic clock, so forked
# children share it with their parent), and the CPU time its thread used.
import json
import os
import sys
import threading
import time

CHUNK = 20000


def emit(obj):
    # os.write, not print: a forked child must not flush a copy of its
    # parent's buffer, and a short line written at once is never torn.
    os.write(1, (json.dumps(obj) + "\n").encode())


def spin(n, parent=None):
    """Pure Python arithmetic: bytecode the interpreter must run itself."""
    x = 1
    while n > 0:
        for _ in range(min(n, CHUNK)):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        n -= CHUNK
        if parent is not None and os.getppid() != parent:
            os._exit(1)  # the parent is gone (the run was stopped): stop too
    return x


def worker(key, rnd, i, n, t0, parent=None):
    start, c0 = time.perf_counter() - t0, time.thread_time()
    spin(n, parent)
    emit({"event": "worker", "key": key, "round": rnd, "i": i, "start": start,
          "end": time.perf_counter() - t0, "cpu": time.thread_time() - c0})


def shares(total, n):
    return [total // n + (1 if i < total % n else 0) for i in range(n)]


# snippet:python-gil

def run_threads(key, rnd, n, total, t0):
    ts = [threading.Thread(target=worker, args=(key, rnd, i, k, t0)) for i, k in enumerate(shares(total, n))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def run_procs(key, rnd, n, total, t0):
    me, pids = os.getpid(), []
    for i, k in enumerate(shares(total, n)):
        pid = os.fork()
        if pid == 0:
            try:
                worker(key, rnd, i, k, t0, me)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)

# end snippet


def calibrate(work_ms):
    # The thread's CPU clock, not the wall clock: time another program
    # takes the CPU away for must not count as looping.
    n = 20000
    while True:
        t = time.thread_time()
        spin(n)
        d = time.thread_time() - t
        if d > 0.05:
            per_ms = n / (d * 1000)
            emit({"event": "calibrate", "per_ms": per_ms})
            return max(1, int(per_ms * work_ms))
        n *= 2


def main():
    n, work_ms, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    threads_only = len(sys.argv) > 4 and sys.argv[4] == "threads"
    check = getattr(sys, "_is_gil_enabled", None)
    gil = True if check is None else bool(check())
    emit({"event": "probe", "version": sys.version.split()[0], "gil": gil,
          "implementation": sys.implementation.name, "executable": sys.executable})
    if not gil and not threads_only:
        return
    total = calibrate(work_ms)
    variants = [("t1", run_threads, 1), ("tn", run_threads, n)]
    if not threads_only:
        variants += [("p1", run_procs, 1), ("pn", run_procs, n)]
    for r in range(rounds):
        for key, run, k in variants:
            emit({"event": "variant", "key": key, "round": r})
            t0 = time.perf_counter()
            run(key, r, k, total, t0)
            emit({"event": "done", "key": key, "wall": time.perf_counter() - t0})


main()
