"""Events since the run reach the shopper's next list in process, for every kind of model."""

from __future__ import annotations

import pytest

from engine.core.errors import RequestError
from engine.serving.recommender import Recommender

pytest_plugins = ["serving_runs"]


@pytest.fixture(params=["ease_run", "twotower_run"])
def service(request: pytest.FixtureRequest, tiny_shop) -> Recommender:  # noqa: ANN001
    return Recommender.load(getattr(tiny_shop, request.param))  # its own: events change it


def test_a_recorded_purchase_leaves_the_list_and_ends_the_history(service: Recommender) -> None:
    user = service.user_ids[0]
    before = service.recommend(user, k=10).table["item_id"].tolist()
    trained = len(service.history(user))
    service.record_event(user, before[0], "purchase", 1_800_000_000.0)
    after = service.recommend(user, k=10).table["item_id"].tolist()
    assert before[0] not in after and len(after) == 10
    history = service.history(user)
    assert len(history) == trained + 1 and history["item_id"].iloc[-1] == before[0]
    assert history["timestamp"].iloc[-1].timestamp() == pytest.approx(1_800_000_000.0, abs=1e-3)


def test_a_shopper_the_run_never_saw_is_scored_from_their_events(service: Recommender) -> None:
    item = str(service.catalogue.columns.ids[3])
    assert service.recommend("newcomer", k=5).notice  # trending until an event arrives
    service.record_event("newcomer", item, "view", 1_800_000_000.0)
    result = service.recommend("newcomer", k=5)
    assert result.notice is None and item not in result.table["item_id"].tolist()
    same = service.recommend(history=[item], k=5).table["item_id"].tolist()
    assert result.table["item_id"].tolist() == same


def test_an_unknown_item_is_refused_and_not_recorded(service: Recommender) -> None:
    with pytest.raises(RequestError, match="unknown item"):
        service.record_event("someone", "no-such-item", "click", 1_800_000_000.0)
    assert len(service.live) == 0
