"""Experiments on live traffic: arms, sticky assignment, always-valid intervals, exploration,
off-policy estimates and a shop simulator that checks them (see docs/experiments.md)."""
