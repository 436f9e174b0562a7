"""Serve-time re-rankers (none, MMR, DPP, calibrated, category quotas) over candidate arrays."""

from engine.rerank.batch import rerank_batch
from engine.rerank.core import RerankResult, rerank
from engine.rerank.methods import METHODS
from engine.rerank.quotas import Quotas

__all__ = ["METHODS", "Quotas", "RerankResult", "rerank", "rerank_batch"]
