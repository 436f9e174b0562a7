"""Candidate retrieval at scale: exact and FAISS indexes, quantised item tables."""
