"""Prism engine: data, encoding, training, evaluation, re-ranking and serving.

The engine never imports streamlit or plotly; the dashboard is a thin view over it.
"""

__version__ = "0.1.0"
