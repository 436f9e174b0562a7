"""Serve-time re-rankers (none, MMR, DPP, calibrated, category quotas) and the one ranking
pipeline they, policies, serving and evaluation share."""

from engine.rerank.core import RerankResult, rerank, rerank_batch
from engine.rerank.methods import METHODS
from engine.rerank.quotas import Quotas

__all__ = ["METHODS", "Quotas", "RerankResult", "rerank", "rerank_batch"]
