"""Run folders: saving, loading and listing trained runs."""
