"""Exposure: who gets seen across shoppers, population targets, and the prices that meet them.

`groups` defines item groupings, `ledger` measures exposure shares, `targets` validates floors
and ceilings, `prices` fits one dual price per group and applies it at serve time.
"""
