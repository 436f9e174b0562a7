"""The floor under every studio interaction: a bare Streamlit app with one slider and one 10-row
table, nothing else. bench/browser_speed.py times slider → table redrawn here and in the studio
in the same run, so the studio's cost reads as a ratio to what Streamlit itself costs.

    streamlit run bench/bare_slider_app.py
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

value = st.slider("value", 0.0, 1.0, 0.5, step=0.05)
st.table(pd.DataFrame({"item": [f"item {rank}" for rank in range(1, 11)],
                       "score": [round(value * (11 - rank) / 10, 3) for rank in range(1, 11)],
                       "setting": [f"v = {value:.2f}"] * 10}))
