"""Training a run: the one entry point, model selection on validation, settings search."""
