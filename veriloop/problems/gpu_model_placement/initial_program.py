"""GPU model placement (PRISM-style): put every model on one GPU to minimise the worst KV-cache pressure.

place_models(models, num_gpus, gpu_memory_gb) returns a GPU index per model.
models[i] = {"weights_gb": size of the weights, "kv_gb": KV-cache memory the model's traffic needs}.
On each GPU the weights must fit (sum of weights < gpu_memory_gb); the memory left is the KV
cache, and the GPU's pressure is sum(kv_gb) / (gpu_memory_gb - sum(weights_gb)). Minimise the
largest pressure over GPUs.
"""

# EVOLVE-BLOCK-START
SIZE_WEIGHT = 1.0  # models are placed in decreasing order of SIZE_WEIGHT * weights + KV_WEIGHT * kv
KV_WEIGHT = 0.1
PRESSURE_WEIGHT = 0.05  # a model goes to the fitting GPU with the lowest
MEMORY_WEIGHT = 1.0  #   PRESSURE_WEIGHT * pressure_after + MEMORY_WEIGHT * weights_used / memory


def order_key(model):
    return SIZE_WEIGHT * model["weights_gb"] + KV_WEIGHT * model["kv_gb"]


def gpu_cost(pressure_after, weights_used, memory):
    return PRESSURE_WEIGHT * pressure_after + MEMORY_WEIGHT * weights_used / memory
# EVOLVE-BLOCK-END


def place_models(models, num_gpus, gpu_memory_gb):
    order = sorted(range(len(models)), key=lambda i: -order_key(models[i]))
    used = [0.0] * num_gpus
    kv = [0.0] * num_gpus
    out = [0] * len(models)
    for i in order:
        w, d = models[i]["weights_gb"], models[i]["kv_gb"]
        fits = [g for g in range(num_gpus) if used[g] + w < gpu_memory_gb]
        if not fits:
            fits = [min(range(num_gpus), key=lambda g: used[g])]
        g = min(fits, key=lambda g: gpu_cost((kv[g] + d) / max(gpu_memory_gb - used[g] - w, 1e-9), used[g],
                                             gpu_memory_gb))
        out[i] = g
        used[g] += w
        kv[g] += d
    return out
