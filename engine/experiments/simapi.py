"""Drive the HTTP API with simulated shoppers: lists out, events in, end to end.

Each visit asks `POST /recommend` for a shopper (the running experiment picks the arm and,
with exploration, randomises the list), draws the shopper's clicks and purchases on the list
with the shop's click model (a planted lift for one arm), and sends each as `POST /events`
with the list's request id, so the experiment report reads exactly what the API logged.
`client` is anything with `.post(path, json=...)` returning a response with `.status_code`
and `.json()` (FastAPI's TestClient, or an httpx.Client on a running server).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine.core.errors import PrismError
from engine.experiments.simulate import Shop


class SimulationError(PrismError):
    """The API refused a request the simulator sent."""


def _post(client: Any, path: str, body: dict[str, Any], expected: int) -> dict[str, Any]:
    answer = client.post(path, json=body)
    if answer.status_code != expected:
        raise SimulationError(f"{path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.json()


def drive(client: Any, shop: Shop, item_index: Any, *, visits: int, k: int = 10,
          lifts: dict[str, float] | None = None, seed: int = 0,
          candidate_policy: str | None = None,
          progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run `visits` shopper visits through the API; counts of lists, clicks and purchases
    sent per arm, and with `candidate_policy` ('none': the plain ranking) that policy's list
    for the same shopper at the same moment, by request id (`"candidates"`), for off-policy
    estimates."""
    rng = np.random.default_rng(seed)
    lifts = lifts or {}
    sent: dict[str, Any] = {"candidates": {}}
    for visit in range(visits):
        row = int(rng.integers(len(shop.users)))
        user = shop.users[row]
        shown = _post(client, "/recommend", {"user_id": user, "k": k}, 200)
        if candidate_policy is not None:
            other = _post(client, "/recommend", {"user_id": user, "k": k,
                                                 "policy": candidate_policy}, 200)
            sent["candidates"][shown["request_id"]] = [i["item_id"] for i in other["items"]]
        arm = shown.get("arm") or "-"
        ids = [item["item_id"] for item in shown["items"]]
        positions = np.asarray(item_index.get_indexer(ids), dtype=np.int64)[None, :]
        clicks, buys = shop.draw(rng, np.array([row]), positions, lifts.get(arm, 0.0))
        counts = sent.setdefault(arm, {"lists": 0, "clicks": 0, "purchases": 0})
        counts["lists"] += 1
        for slot in np.flatnonzero(clicks[0]):
            _post(client, "/events", {"user_id": user, "item_id": ids[slot], "event": "click",
                                      "list_id": shown["request_id"]}, 201)
            counts["clicks"] += 1
        for slot in np.flatnonzero(buys[0]):
            _post(client, "/events", {"user_id": user, "item_id": ids[slot],
                                      "event": "purchase", "list_id": shown["request_id"]}, 201)
            counts["purchases"] += 1
        if progress is not None:
            progress(visit + 1, visits)
    return sent
