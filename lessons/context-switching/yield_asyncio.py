# yield-batching's asyncio variant, run as
#
#   python3 -c <this> ITEMS BUDGET_MS ROUNDS B1 B2 ...
#
# The seed's own example: two asyncio tasks on one event loop process tiny
# items, and after every B items each one yields to the loop with
# `await asyncio.sleep(0)`. For each B it runs ROUNDS rounds of ITEMS items
# (shared between the two tasks), each stopping early when BUDGET_MS has
# passed, and prints one JSON object per round on stdout:
#
#   {"batch": B, "round": r, "done": items done, "wall": seconds}
import asyncio
import json
import os
import sys
import time


def emit(obj):
    os.write(1, (json.dumps(obj) + "\n").encode())


# snippet:yield-asyncio
async def worker(share, batch, deadline, done, i):
    x, n = i, 0
    while n < share:
        end = min(n + batch, share)  # batch 1: yield after every item
        while n < end:
            x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
            n += 1
        await asyncio.sleep(0)  # give the loop to the other task
        if (n & 0x3FF) < batch and time.perf_counter() > deadline:
            break
    done[i] = n
# end snippet


async def one_round(items, batch, budget):
    done = [0, 0]
    t0 = time.perf_counter()
    deadline = t0 + budget
    await asyncio.gather(worker(items // 2, batch, deadline, done, 0),
                         worker(items // 2, batch, deadline, done, 1))
    return done[0] + done[1], time.perf_counter() - t0


def main():
    items, budget_ms, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    emit({"event": "probe", "version": sys.version.split()[0]})
    for b in [int(a) for a in sys.argv[4:]]:
        for r in range(rounds):
            done, wall = asyncio.run(one_round(items, b, budget_ms / 1000))
            emit({"event": "round", "batch": b, "round": r, "done": done, "wall": wall})


main()
