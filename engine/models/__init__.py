"""Recommenders: the model interface, baselines, the two-tower network, its losses and trainer."""
