"""Who may change what shoppers see: roles, actors, the write gate and the tokens/sign-in map.

Every write that changes what shoppers see (save a draft, publish, roll back, put exposure
targets live, import, train) goes through `Gate`, which checks the actor's role first and
records publishes, rollbacks and target changes in the policy store's audit log.
"""

from engine.access.gate import Gate
from engine.access.roles import ACTIONS, ROLES, AccessDenied, Actor, allows, require

__all__ = ["ACTIONS", "ROLES", "AccessDenied", "Actor", "Gate", "allows", "require"]
