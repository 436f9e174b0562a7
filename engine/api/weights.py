"""The API's two diversity knobs and their names (`alpha`'s help text is the request
model's, `engine.serving.requests.ALPHA_HELP`).

`diversity_weight` is the serve-time re-rank weight (MMR, DPP, calibrated, quotas).
`alpha` is the model's loss weight: a loss-conditioned run (prism train --alpha LOW:HIGH)
scores any alpha in its trained range with one user-tower pass; other runs refuse it.
"""

from __future__ import annotations

DEFAULT_WEIGHT = 0.0
