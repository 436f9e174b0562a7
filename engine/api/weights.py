"""The API's two diversity knobs and their names.

`diversity_weight` is the serve-time re-rank weight (MMR, DPP, calibrated, quotas).
`alpha` is the model's loss weight: a loss-conditioned run (prism train --alpha LOW:HIGH)
scores any alpha in its trained range with one user-tower pass; other runs refuse it.
"""

from __future__ import annotations

DEFAULT_WEIGHT = 0.0
ALPHA_HELP = ("the model's loss weight alpha (L = alpha * L_diversity + beta * L_relevance) "
              "for a loss-conditioned run, within its trained range; default: the run's own")
