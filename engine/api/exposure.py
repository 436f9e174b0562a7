"""`GET /exposure`: the exposure ledger of the served run, as JSON (a FastAPI router).

The ledger needs the run's held-out shoppers, so the first call reads the run's data and
scores every test shopper once (seconds on a mid-size shop); later calls reuse that and
only re-rank. Bad parameters answer 400 with the reason.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from engine.api.errors import error_responses
from engine.api.weights import DEFAULT_WEIGHT
from engine.core.errors import PrismError
from engine.exposure.context import ExposureContext
from engine.exposure.groups import GroupSpec
from engine.rerank.methods import QuotaFreeMethod as Method

router = APIRouter(tags=["exposure"])
_lock = threading.Lock()


def _context(request: Request) -> Any:
    """The app's ExposureContext, built on first use from the served run's folder with its
    evaluation model (the one that never saw the held-out shoppers' events)."""
    with _lock:
        ctx = getattr(request.app.state, "exposure", None)
        if ctx is None:
            ctx = ExposureContext.load(request.app.state.recommender.run.path)
            request.app.state.exposure = ctx
        return ctx


@router.get("/exposure", responses=error_responses(400, 422))
def exposure(request: Request,
             by: str = Query("brand", min_length=1, max_length=100,
                             description="brand, top_category, price_band, promo, new, "
                                         "popularity or an item column"),
             new_days: int = Query(30, ge=1, le=3650), k: int = Query(10, ge=1, le=100),
             method: Method = "none",
             diversity_weight: float | None = Query(None, ge=0.0, le=1.0,
                                                    description="serve-time re-rank weight"),
             n_users: int | None = Query(None, ge=1, description="sample of test shoppers"),
             seed: int = Query(0, ge=0)) -> dict[str, Any]:
    """Exposure share, slot share, catalogue share and held-out share per group."""
    try:
        ctx = _context(request)
        rows = ctx.sample(n_users, seed)
        ledger = ctx.ledger(GroupSpec(by=by, new_days=new_days), rows, k=k, method=method,
                            diversity_weight=DEFAULT_WEIGHT if diversity_weight is None
                            else diversity_weight)
    except PrismError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return ledger.to_dict()
