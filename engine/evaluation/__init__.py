"""Offline evaluation: the ranking protocol and the diversity-weight sweep."""
