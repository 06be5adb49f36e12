"""Spot-instance scheduling under a deadline ("Can't Be Late", NSDI'24), single- and multi-region.

make_strategy(info) returns an object whose step(obs) is called once per time step and returns
("spot", region), ("od", region) or ("wait", 0).

info: {"regions": K, "work": W steps of compute needed, "deadline": D steps, "overhead": O steps lost
       whenever a new instance starts, "spot_price": [per region, per step], "od_price": per step}
obs:  {"t": current step, "progress": work steps done, "spot_available": [bool per region],
       "running": None | "spot" | "od", "region": region of the running instance,
       "overhead_left": restart steps still to pay on the running instance}

A spot request where spot is unavailable runs nothing. Changing the instance type or region, or
starting after a pause or a preemption, costs O steps of no progress (still billed). The job must
finish by the deadline on every trace; minimise the cost.
"""

# EVOLVE-BLOCK-START
SAFETY_MARGIN = 40  # steps of slack kept in reserve before falling back to on-demand
SPOT_REGION_LIMIT = 1  # only regions < SPOT_REGION_LIMIT are tried for spot


class Strategy:
    def __init__(self, info):
        self.info = info
        self.committed = False  # once on the on-demand fallback, stay there

    def step(self, obs):
        info = self.info
        remaining_work = info["work"] - obs["progress"]
        remaining_time = info["deadline"] - obs["t"]
        slack = remaining_time - remaining_work - info["overhead"]
        if self.committed or slack <= SAFETY_MARGIN:
            self.committed = True
            return ("od", obs["region"] if obs["running"] == "od" else 0)
        for r in range(min(SPOT_REGION_LIMIT, info["regions"])):
            if obs["spot_available"][r]:
                return ("spot", r)
        return ("wait", 0)
# EVOLVE-BLOCK-END


def make_strategy(info):
    return Strategy(info)
