#!/usr/bin/env python3
"""Test vectors for sn17's CPython random.Random port and 404's prompt selection.

Run with CPython 3 (any 3.x with the 3.11 sample() algorithm, 3.2+):
    python3 scripts/prompt_vectors.py > node/tests/fixtures/prompt_vectors.json
The selection function below follows 404's submission-collector prompts.py as described in
competition.md §4.2 (carry-over sampled from the previous round, then new prompts from the pool
minus the carry-over; sample_up_to consumes no randomness when there are at most k items).
"""
import json
import random
import sys


def sample_up_to(rng, items, k):
    if len(items) <= k:
        return list(items)
    return rng.sample(items, k)


def select_prompts(seed, previous, pool, count, carryover):
    rng = random.Random(seed)
    carry = sample_up_to(rng, previous, carryover) if carryover > 0 else []
    carried = set(carry)
    rest = [p for p in pool if p not in carried]
    new = sample_up_to(rng, rest, count - len(carry))
    return carry + new


def urls(prefix, n):
    return [f"https://x.test/{prefix}{i:04d}.png" for i in range(n)]


def main():
    out = {"python": sys.version.split()[0], "getrandbits32": [], "getrandbits": [], "randbelow": [], "sample": [], "select": []}
    for seed in [0, 1, 42, 291572241, 3274970996, 4294967295, 2**40 + 5, 2**64 + 2**33 + 7]:
        r = random.Random(seed)
        out["getrandbits32"].append({"seed": str(seed), "values": [r.getrandbits(32) for _ in range(700)]})
    for seed, k in [(7, 1), (7, 5), (7, 31), (9, 33), (9, 48), (9, 64)]:
        r = random.Random(seed)
        out["getrandbits"].append({"seed": seed, "k": k, "values": [r.getrandbits(k) for _ in range(20)]})
    for seed, n in [(5, 1), (5, 2), (5, 3), (5, 100), (5, 2**31 + 1), (5, 2**32 - 1), (6, 2**33 + 3)]:
        r = random.Random(seed)
        out["randbelow"].append({"seed": seed, "n": n, "values": [r._randbelow(n) for _ in range(50)]})
    # Both sample() methods: n <= setsize uses the pool method, n > setsize the set method.
    for seed, n, k in [(11, 10, 0), (11, 10, 10), (11, 21, 5), (11, 22, 5), (12, 128, 32), (12, 277, 32),
                       (12, 278, 32), (13, 128, 64), (13, 1045, 96), (13, 1046, 96), (14, 50000, 96),
                       (14, 50000, 128), (15, 3, 3), (16, 100, 6)]:
        r = random.Random(seed)
        out["sample"].append({"seed": seed, "n": n, "k": k, "result": r.sample(range(n), k)})
    # Lists are stored once; cases name them. "dups" holds pool duplicates and lines of
    # "prev", which survive the carry-over filter unless they equal a carried line.
    lists = {"pool": urls("p", 3000), "prev": urls("q", 128), "empty": []}
    lists["prev20"] = lists["prev"][:20]
    lists["pool50"] = lists["pool"][:50]
    lists["dups"] = lists["pool"][:200] + lists["pool"][:50] + lists["prev"][:20]
    out["lists"] = {k: v for k, v in lists.items() if k in ("pool", "prev")}
    # Other lists as concatenated slices [name, start, end] of the stored ones.
    out["lists_derived"] = {"prev20": [["prev", 0, 20]], "pool50": [["pool", 0, 50]], "empty": [],
                            "dups": [["pool", 0, 200], ["pool", 0, 50], ["prev", 0, 20]]}
    cases = [
        ("round 0: no previous prompts", 3274970996, "empty", "pool", 128, 32),
        ("carry 32 of 128, new 96 from a large pool", 3274970996, "prev", "pool", 128, 32),
        ("carry 64 of 128 (competition 0)", 291572241, "prev", "pool", 128, 64),
        ("previous shorter than carryover: no randomness for carry", 42, "prev20", "pool", 128, 32),
        ("pool smaller than needed: whole filtered pool", 7, "prev", "pool50", 128, 32),
        ("pool with duplicates and carried lines", 99, "prev", "dups", 128, 32),
        ("carryover 0", 5, "prev", "pool", 128, 0),
    ]
    for name, seed, p, pl, count, carry in cases:
        out["select"].append({"name": name, "seed": seed, "previous": p, "pool": pl, "count": count,
                              "carryover": carry,
                              "result": select_prompts(seed, lists[p], lists[pl], count, carry)})
    json.dump(out, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
