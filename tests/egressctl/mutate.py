#!/usr/bin/env python3
"""Writes mutated copies of a control_*.json answer, for robustness runs
of egressctl's renderers: values replaced by ones of other types (null,
strings with control bytes, negative, huge and fractional numbers,
arrays, objects), keys dropped, arrays emptied or repeated.

Usage: mutate.py FIXTURE SEED COUNT OUTDIR   (writes OUTDIR/m<N>.json)"""
import json
import os
import random
import sys

ODD = [None, "", "\x1b[2J\x07", "caf\u00e9", -1, 0, 2**63 - 1, -2**63, 1e300, -0.5,
       3.7, True, False, [], {}, [1, "x", None], {"a": None}, "9" * 300]


def mutate(v, rnd, depth=0):
    if rnd.random() < 0.15:
        return rnd.choice(ODD)
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if rnd.random() < 0.08:
                continue
            out[k] = mutate(x, rnd, depth + 1)
        return out
    if isinstance(v, list):
        items = [mutate(x, rnd, depth + 1) for x in v]
        if items and rnd.random() < 0.1:
            items = items * rnd.randint(2, 5)
        return items
    return v


def main():
    path, seed, count, outdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    with open(path) as f:
        base = json.loads(f.read())
    rnd = random.Random(seed)
    for i in range(count):
        with open(os.path.join(outdir, "m%d.json" % i), "w") as f:
            f.write(json.dumps(mutate(base, rnd), separators=(",", ":")) + "\n\n")


if __name__ == "__main__":
    main()
