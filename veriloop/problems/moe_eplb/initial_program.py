"""MoE expert-parallel load balancing (EPLB): replicate experts and place the replicas on GPUs.

rebalance_experts(weight, num_replicas, num_gpus) receives the per-layer token load of every
logical expert (weight: array [layers, experts]) and returns, for each layer, the logical expert
held by each of the num_replicas physical slots (array [layers, num_replicas]). Slot s lives on
GPU s // (num_replicas // num_gpus). Every expert needs at least one replica; an expert's load is
shared equally by its replicas. Goal: the most loaded GPU close to the mean (balance = mean/max),
computed fast.
"""

import numpy as np

# EVOLVE-BLOCK-START
REPLICA_EXPONENT = 0.5  # priority of an expert for one more replica: load / replicas ** REPLICA_EXPONENT
ORDER_EXPONENT = 0.0  # replicas are placed in decreasing order of share ** ORDER_EXPONENT (0: expert order)
LOAD_WEIGHT = 0.2  # a replica goes to the GPU with a free slot and the lowest
COUNT_WEIGHT = 1.0  #   LOAD_WEIGHT * gpu_load / mean_load + COUNT_WEIGHT * used_slots / slots_per_gpu


def replica_priority(load, replicas):
    return load / replicas ** REPLICA_EXPONENT


def placement_order(share):
    return -(share ** ORDER_EXPONENT)


def gpu_cost(gpu_load, mean_load, used_slots, slots_per_gpu):
    return LOAD_WEIGHT * gpu_load / mean_load + COUNT_WEIGHT * used_slots / slots_per_gpu
# EVOLVE-BLOCK-END


def replicate(loads, num_replicas):
    """How many replicas each expert gets (at least one, num_replicas in total)."""
    n = len(loads)
    counts = [1] * n
    for _ in range(num_replicas - n):
        best = max(range(n), key=lambda e: replica_priority(loads[e], counts[e]))
        counts[best] += 1
    return counts


def place(loads, counts, num_gpus, slots_per_gpu):
    """Assign every replica to a GPU with a free slot; returns the slot -> expert list."""
    items = [(loads[e] / counts[e], e) for e in range(len(loads)) for _ in range(counts[e])]
    items.sort(key=lambda it: placement_order(it[0]))
    mean_load = max(sum(loads) / num_gpus, 1e-12)
    gpu_load = [0.0] * num_gpus
    gpu_slots = [[] for _ in range(num_gpus)]
    for share, e in items:
        free = [g for g in range(num_gpus) if len(gpu_slots[g]) < slots_per_gpu]
        g = min(free, key=lambda g: gpu_cost(gpu_load[g], mean_load, len(gpu_slots[g]), slots_per_gpu))
        gpu_slots[g].append(e)
        gpu_load[g] += share
    return [e for g in range(num_gpus) for e in gpu_slots[g]]


def rebalance_experts(weight, num_replicas, num_gpus):
    """Slot -> logical expert for every layer: an int array [layers, num_replicas]."""
    weight = np.asarray(weight, dtype=float)
    slots_per_gpu = num_replicas // num_gpus
    out = np.zeros((weight.shape[0], num_replicas), dtype=np.int64)
    for layer in range(weight.shape[0]):
        loads = [float(x) for x in weight[layer]]
        counts = replicate(loads, num_replicas)
        out[layer] = place(loads, counts, num_gpus, slots_per_gpu)
    return out
