"""The floor under every studio interaction: a bare Streamlit app with one slider and one 10-row
table, nothing else. bench/studio/browser_speed.py times slider → table redrawn here and in the
studio in the same run, so the studio's cost reads as a ratio to what Streamlit itself costs.

The table is HTML drawn with `st.markdown`, the element the Explorer draws its lists with, so
the ratio counts Prism's own work rather than a difference between widgets (`st.table` redraws
slower than markdown in the browser).

    streamlit run bench/studio/bare_slider_app.py
"""

from __future__ import annotations

import streamlit as st

value = st.slider("value", 0.0, 1.0, 0.5, step=0.05)
rows = "".join(f"<tr><td>item {rank}</td><td>{value * (11 - rank) / 10:.3f}</td>"
               f"<td>v = {value:.2f}</td></tr>" for rank in range(1, 11))
st.markdown(f'<table id="bare-table">{rows}</table>', unsafe_allow_html=True)
