"""Membership of ids in a large set of ids, at the speed of a hash join.

pandas 3 checks `Series.isin` for Arrow-backed strings by turning every wanted value into a
Python object first: seconds for a million item ids, on each catalogue load. Arrow's own
`is_in` hashes both sides in C++; other dtypes keep pandas' `isin`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def ids_in(values: pd.Series, among: pd.Series | pd.Index) -> np.ndarray:
    """(len(values),) bool: which `values` occur in `among` (missing values match missing
    ones, as `Series.isin` has it)."""
    if pd.api.types.is_string_dtype(values.dtype) and pd.api.types.is_string_dtype(among.dtype):
        try:
            left = pa.array(values.array, type=pa.large_string(), from_pandas=True)
            right = pa.array(pd.Series(among).array, type=pa.large_string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects: pandas compares them
            return values.isin(among).to_numpy(dtype=bool)
        return pc.is_in(left, value_set=right).to_numpy(zero_copy_only=False)
    return values.isin(among).to_numpy(dtype=bool)
