"""A deliberately faulty v3 of the wine classifier's scoring script, for rollout demos and tests.

It serves the same answers as ``score.py`` next to it (same folder, so it is uploaded with it) but fails on a share of requests and/or answers
slowly, as set by environment variables in the deployment YAML:

``WINE_FAULT_ERROR_RATE``  share of requests that raise (the inference server answers 500), default 0.3
``WINE_FAULT_DELAY_MS``    extra latency added to every request, default 0
``WINE_FAULT_SEED``        seed for choosing the failing requests, default 3

A progressive rollout must catch both (error ratio and latency gates) and roll back by itself.
"""

import importlib.util
import os
import random
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("wine_score_v2", os.path.join(_HERE, "score.py"))
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)

ERROR_RATE = float(os.environ.get("WINE_FAULT_ERROR_RATE", "0.3"))
DELAY_S = float(os.environ.get("WINE_FAULT_DELAY_MS", "0")) / 1000.0
_rng = random.Random(int(os.environ.get("WINE_FAULT_SEED", "3")))


def init():
    _base.init()


def run(raw_data):
    if DELAY_S:
        time.sleep(DELAY_S)
    if _rng.random() < ERROR_RATE:
        raise RuntimeError("v3 fault injection: this request fails on purpose (WINE_FAULT_ERROR_RATE)")
    return _base.run(raw_data)
