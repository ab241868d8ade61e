"""Scoring script for the wine classifier, in the Azure ML init()/run() contract.

Request:  {"data": [[13 numbers], ...]}   (feature order: see model-info.json, at most 1000 rows)
Answer:   {"predictions": [...], "labels": [...], "probabilities": [[...]], "model_version": "v1"}
Invalid input gets a 400 with a message that says what is wrong, instead of a stack trace.
"""

import json
import math
import os

import joblib
from azureml_inference_server_http.api.aml_response import AMLResponse

MAX_ROWS = 1000
model = None
info: dict = {}


def init():
    global model, info
    # Azure mounts a registered folder model at $AZUREML_MODEL_DIR/<folder name>/.
    folder = os.path.join(os.environ["AZUREML_MODEL_DIR"], "model")
    model = joblib.load(os.path.join(folder, "model.joblib"))
    with open(os.path.join(folder, "model-info.json")) as fh:
        info = json.load(fh)


def _bad_request(message):
    return AMLResponse({"error": message}, 400, json_str=True)


def _validate(raw_data):
    try:
        payload = json.loads(raw_data)
    except (TypeError, ValueError):
        return None, "the body must be JSON"
    if not isinstance(payload, dict) or "data" not in payload:
        return None, 'the body must be an object with a "data" list of rows'
    rows = payload["data"]
    n_features = len(info["feature_names"])
    if not isinstance(rows, list) or not rows:
        return None, '"data" must be a non-empty list of rows'
    if len(rows) > MAX_ROWS:
        return None, f'"data" has {len(rows)} rows; at most {MAX_ROWS} per request'
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != n_features:
            return None, f"row {i} must be a list of {n_features} numbers"
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                return (
                    None,
                    f"row {i}, feature {j} ({info['feature_names'][j]}) must be a finite number, got {v!r}",
                )
    return rows, None


def run(raw_data):
    rows, problem = _validate(raw_data)
    if problem:
        return _bad_request(problem)
    classes = info["class_names"]
    predictions = model.predict(rows).tolist()
    return {
        "predictions": predictions,
        "labels": [classes[p] for p in predictions],
        "probabilities": [[round(p, 4) for p in r] for r in model.predict_proba(rows).tolist()],
        "model_version": info["version"],
    }
