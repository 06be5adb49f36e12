"""Transaction scheduling: order conflicting transactions to minimise the makespan.

schedule(txns, num_workers) returns an order (a permutation of the transaction indices).
txns[i] = {"reads": [keys], "writes": [keys], "duration": int}. The engine executes transactions
in that order on num_workers workers: a transaction starts when a worker is free AND every
transaction earlier in the order that conflicts with it (same key, at least one of the two
writes it) has finished. Minimise the finish time of the last transaction.
"""

import heapq

# EVOLVE-BLOCK-START
DURATION_WEIGHT = 1.0  # static priority: DURATION_WEIGHT * duration + CONFLICT_WEIGHT * conflicts (ascending)
CONFLICT_WEIGHT = 0.0
WINDOW = 1  # greedy: among the next WINDOW transactions of the static order, run the one that can start first
START_WEIGHT = 1.0  # greedy choice minimises START_WEIGHT * start + FINISH_WEIGHT * finish
FINISH_WEIGHT = 0.0


def static_key(txn, conflicts):
    return DURATION_WEIGHT * txn["duration"] + CONFLICT_WEIGHT * conflicts


def greedy_cost(start, finish):
    return START_WEIGHT * start + FINISH_WEIGHT * finish
# EVOLVE-BLOCK-END


def conflict_counts(txns):
    """How many other transactions each transaction conflicts with."""
    writers, readers = {}, {}
    for i, t in enumerate(txns):
        for k in t["writes"]:
            writers.setdefault(k, set()).add(i)
        for k in t["reads"]:
            readers.setdefault(k, set()).add(i)
    counts = []
    for i, t in enumerate(txns):
        other = set()
        for k in t["writes"]:
            other |= writers.get(k, set()) | readers.get(k, set())
        for k in t["reads"]:
            other |= writers.get(k, set())
        other.discard(i)
        counts.append(len(other))
    return counts


def _earliest(t, write_fin, read_fin):
    dep = 0
    for k in t["writes"]:
        dep = max(dep, write_fin.get(k, 0), read_fin.get(k, 0))
    for k in t["reads"]:
        dep = max(dep, write_fin.get(k, 0))
    return dep


def order_transactions(txns, num_workers):
    counts = conflict_counts(txns)
    pending = sorted(range(len(txns)), key=lambda i: static_key(txns[i], counts[i]))
    write_fin, read_fin = {}, {}
    workers = [0] * num_workers
    order = []
    while pending:
        free = workers[0]
        best, best_cost = 0, None
        for pos in range(min(max(1, int(WINDOW)), len(pending))):
            t = txns[pending[pos]]
            start = max(free, _earliest(t, write_fin, read_fin))
            cost = greedy_cost(start, start + t["duration"])
            if best_cost is None or cost < best_cost:
                best, best_cost = pos, cost
        i = pending.pop(best)
        t = txns[i]
        finish = max(heapq.heappop(workers), _earliest(t, write_fin, read_fin)) + t["duration"]
        heapq.heappush(workers, finish)
        for k in t["writes"]:
            write_fin[k] = max(write_fin.get(k, 0), finish)
        for k in t["reads"]:
            read_fin[k] = max(read_fin.get(k, 0), finish)
        order.append(i)
    return order


def makespan(txns, order, num_workers):
    """The engine's model (the evaluator recomputes this itself)."""
    write_fin, read_fin = {}, {}
    workers = [0.0] * num_workers
    end = 0.0
    for i in order:
        t = txns[i]
        dep = 0.0
        for k in t["writes"]:
            dep = max(dep, write_fin.get(k, 0.0), read_fin.get(k, 0.0))
        for k in t["reads"]:
            dep = max(dep, write_fin.get(k, 0.0))
        free = heapq.heappop(workers)
        finish = max(free, dep) + t["duration"]
        heapq.heappush(workers, finish)
        for k in t["writes"]:
            write_fin[k] = max(write_fin.get(k, 0.0), finish)
        for k in t["reads"]:
            read_fin[k] = max(read_fin.get(k, 0.0), finish)
        end = max(end, finish)
    return end


def schedule(txns, num_workers):
    return order_transactions(txns, num_workers)
