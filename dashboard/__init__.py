"""Prism studio: the Streamlit dashboard over the engine (run `streamlit run dashboard/app.py`)."""
