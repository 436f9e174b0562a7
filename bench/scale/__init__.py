"""Scale benchmarks: the 1,000,000-item shop, approximate retrieval, quantised tables."""
