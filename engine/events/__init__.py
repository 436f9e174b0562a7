"""Shopper events: the store they are written to, and their import and export."""
