"""MoE expert-offloading cache: rank the resident experts for eviction before each token.

make_policy(info) returns an object; its rank(history, cache) is called before every token once
the cache is full and returns ALL resident experts in eviction order (first = evicted first).
On a miss during that token, the first expert of the ranking that the token has not used yet is
evicted; experts loaded during the token are kept until the next ranking.

info    = {"layers": L, "experts": E per layer, "capacity": experts that fit on the GPU, "top_k": k}
history = accesses since the previous call, oldest first: [[token, layer, expert, was_hit], ...]
cache   = the resident experts [[layer, expert], ...].
Tokens visit layers 0..L-1 in order and each picks top_k experts per layer. Goal: the highest hit
rate (every miss moves one expert's weights over PCIe).
"""

# EVOLVE-BLOCK-START
RECENCY_WEIGHT = 1.0  # eviction score (highest is evicted): RECENCY_WEIGHT * age_in_tokens
FREQUENCY_WEIGHT = 0.05  #   - FREQUENCY_WEIGHT * decayed_uses + LAYER_WEIGHT * layers_until_needed
LAYER_WEIGHT = 0.0
DECAY = 1.0  # uses are multiplied by DECAY ** tokens_elapsed


def eviction_score(age_tokens, uses, layers_until_needed):
    return RECENCY_WEIGHT * age_tokens - FREQUENCY_WEIGHT * uses + LAYER_WEIGHT * layers_until_needed
# EVOLVE-BLOCK-END


class Policy:
    def __init__(self, info):
        self.info = info
        self.per_token = info["layers"] * info["top_k"]
        self.clock = 0
        self.last = {}
        self.uses = {}
        self.token = 0

    def rank(self, history, cache):
        for token, layer, expert, _hit in history:
            self.clock += 1
            k = (layer, expert)
            old, seen = self.uses.get(k, (0.0, token))
            self.uses[k] = (old * DECAY ** (token - seen) + 1.0, token)
            self.last[k] = self.clock
            self.token = token
        layers = self.info["layers"]
        scored = []
        for layer, expert in cache:
            k = (layer, expert)
            age = (self.clock - self.last.get(k, 0)) / self.per_token
            uses, seen = self.uses.get(k, (0.0, self.token))
            decayed = uses * DECAY ** (self.token - seen)
            # the next token starts again at layer 0: layer l is needed after l more layers
            scored.append((eviction_score(age, decayed, layer), [layer, expert]))
        scored.sort(key=lambda item: -item[0])
        return [k for _, k in scored]


def make_policy(info):
    return Policy(info)
