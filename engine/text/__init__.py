"""Product text: the transformer encoder and the search vectors built from it."""
