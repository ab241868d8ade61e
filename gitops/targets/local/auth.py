"""Endpoint keys and tokens, checked by the router the way Azure checks them.

``auth_mode: key`` accepts either of two generated keys as ``Authorization: Bearer <key>``.
``auth_mode: aml_token`` accepts short-lived tokens issued by ``get-credentials``; locally they are
HMAC-signed with a per-endpoint secret so the router can verify them without any service.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

TOKEN_LIFETIME_SECONDS = 3600


def new_key() -> str:
    return secrets.token_urlsafe(32)


def issue_token(endpoint: str, secret: str, *, now: float | None = None) -> tuple[str, int]:
    expiry = int((now if now is not None else time.time()) + TOKEN_LIFETIME_SECONDS)
    payload = (
        base64.urlsafe_b64encode(json.dumps({"ep": endpoint, "exp": expiry}).encode()).decode().rstrip("=")
    )
    sig = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{sig}", expiry


def verify_token(token: str, endpoint: str, secret: str, *, now: float | None = None) -> bool:
    payload, _, sig = token.partition(".")
    if not payload or not sig:
        return False
    good = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(good, sig):
        return False
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, json.JSONDecodeError):
        return False
    current = now if now is not None else time.time()
    return bool(
        claims.get("ep") == endpoint and isinstance(claims.get("exp"), int) and claims["exp"] > current
    )


def check_authorization(
    header: str | None, auth_mode: str, endpoint: str, keys: tuple[str, str], secret: str
) -> bool:
    if not header:
        return False
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not credential:
        return False
    credential = credential.strip()
    if auth_mode == "key":
        return any(hmac.compare_digest(credential, k) for k in keys)
    if auth_mode == "aml_token":
        return verify_token(credential, endpoint, secret)
    return False
