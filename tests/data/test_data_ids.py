"""Id membership answers as `Series.isin` does, for every id dtype a table may carry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.core.ids import ids_in


@pytest.mark.parametrize("dtype", ["str", object, "string"])
def test_ids_in_matches_isin_for_strings(dtype: object) -> None:
    values = pd.Series(["a", None, "c", "d", "a"], dtype=dtype)
    among = pd.Series(["a", "d", None, "z"], dtype=dtype)
    np.testing.assert_array_equal(ids_in(values, among), values.isin(among).to_numpy())
    np.testing.assert_array_equal(ids_in(values, pd.Index(["c"])), [False, False, True,
                                                                   False, False])


def test_ids_in_keeps_pandas_rules_for_other_ids() -> None:
    assert ids_in(pd.Series([1, 2, 3]), pd.Series([3, 1])).tolist() == [True, False, True]
    mixed = pd.Series(["1", 1, "b"], dtype=object)  # never equal across types
    assert ids_in(mixed, pd.Series(["1", "b"], dtype=object)).tolist() == [True, False, True]
