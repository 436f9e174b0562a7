"""The English templates of the errors the engine raises with a code (see engine.core.errors).

Each is joined into `engine.core.messages.TEMPLATES`, so an error raised as
`ConfigError(Message("policy_name", name=name))` prints exactly this text in the CLI and the
API, and the studio shows `engine.<code>` from its translation table.
"""

from __future__ import annotations

ERRORS = {
    # policies: their names, their JSON, their stages (engine.policy.schema)
    "policy_name": "use 1-64 letters (of any script), digits, '.', '_' or '-', starting with a "
                   "letter or digit",
    "field_problem": "{where}: {problem}",
    "policy_word": "policy",
    "and_more": "{problems} (and {n} more)",
    "not_json": "{where}: not valid JSON ({error} at line {line})",
    "policy_not_object": "{where}: a policy is a JSON object with name and stages",
    "policy_reference": "policy reference {reference!r}: write a name or name@version, e.g. "
                        "spring-sale@2",
    "policy_version_range": "policy reference {reference}: a version is a whole number from 1 "
                            "to {most:,}",
    "one_diversify": "a policy has at most one diversify stage",
    "one_buy_again": "a policy has at most one buy_again stage",
    "one_exposure_targets": "a policy has at most one exposure_targets stage (put every target "
                            "in one set and fit its prices together)",
    "pinned_twice": "item {item!r} is pinned twice for the same shoppers",
    "match_empty": "a match needs at least one condition (brands, categories, item_ids, promo, "
                   "price_min/price_max or column+values)",
    "column_values": "`column` and `values` go together: name an item column and the values "
                     "to match",
    "price_order": "price_min {low} is above price_max {high}",
    "filter_empty": "a filter needs price_min/price_max, keep, drop or exclude_seen",
    "floor_one_bound": "a floor takes exactly one of quantile or min_relevance",
    "quota_needs_quotas": "method 'quota' needs quotas, e.g. {example}",
    "quotas_quota_only": "quotas apply to method 'quota' only",
    # the fields of a policy, as an error names where it is wrong
    "field_alpha": "alpha",
    "field_brands": "brands",
    "field_categories": "categories",
    "field_column": "column",
    "field_dataset": "dataset",
    "field_description": "description",
    "field_drop": "drop",
    "field_exclude_seen": "exclude_seen",
    "field_include_unavailable": "include_unavailable",
    "field_item_id": "item_id",
    "field_item_ids": "item_ids",
    "field_keep": "keep",
    "field_kind": "kind",
    "field_label": "label",
    "field_match": "match",
    "field_max_items": "max_items",
    "field_method": "method",
    "field_min_due": "min_due",
    "field_min_relevance": "min_relevance",
    "field_missing_price": "missing_price",
    "field_mode": "mode",
    "field_n_candidates": "n_candidates",
    "field_name": "name",
    "field_price_max": "price_max",
    "field_price_min": "price_min",
    "field_prices": "prices",
    "field_promo": "promo",
    "field_quantile": "quantile",
    "field_quotas": "quotas",
    "field_run": "run",
    "field_scope": "scope",
    "field_segment": "segment",
    "field_share": "share",
    "field_slot": "slot",
    "field_slots": "slots",
    "field_stages": "stages",
    "field_strength": "strength",
    "field_target_mix": "target_mix",
    "field_top_categories": "top_categories",
    "field_values": "values",
    "field_version": "version",
    "field_weight": "weight",
    # pydantic's own wording of the checks a policy's fields get, with its values
    "pydantic_missing": "Field required",
    "pydantic_extra_forbidden": "Extra inputs are not permitted",
    "pydantic_less_than_equal": "Input should be less than or equal to {le}",
    "pydantic_greater_than_equal": "Input should be greater than or equal to {ge}",
    "pydantic_less_than": "Input should be less than {lt}",
    "pydantic_greater_than": "Input should be greater than {gt}",
    "pydantic_string_too_long": "String should have at most {max_length} characters",
    "pydantic_too_long": "List should have at most {max_length} items after validation, not "
                         "{actual_length}",
    "pydantic_int_parsing": "Input should be a valid integer, unable to parse string as an "
                            "integer",
    "pydantic_float_parsing": "Input should be a valid number, unable to parse string as a "
                              "number",
    "pydantic_literal_error": "Input should be {expected}",
    # the policy store (engine.policy.store)
    "policy_unknown": "unknown policy {name!r}; known policies: {known}",
    "policy_none_stored": "unknown policy {name!r}; no policy is stored yet; create one with "
                          "'prism policy create --file'",
    "policy_no_version": "policy {name!r} has no version {version}; see 'prism policy show' "
                         "for its versions",
    "policy_moved_on": "policy {name!r} moved on: you edited version {base} but the latest is "
                       "version {latest}; reload it and apply your changes again",
    "never_published": "policy {name!r} was never published; nothing to roll back to",
    "no_older_live": "policy {name!r}: no version older than {version} was ever live; publish "
                     "one instead",
    # publishing and serving a policy (engine.policy.checks, engine.policy.serving)
    "not_published": "policy {reference} was not published: {problems}; fix the policy (or its "
                     "scope) and save a new version",
    "problems_on_run": "on run {run!r}: {problems}",
    "scoped_elsewhere": "it is scoped to {scope}, not run {run!r}",
    "scope_run": "run {run!r}",
    "scope_dataset": "data set {dataset!r}",
    "failed_for_shoppers": "it failed for {failed} of {sampled} sampled shoppers ({first})",
    "slot_beyond": "{stage}: slot {slot} is beyond the {largest} candidates a list is chosen "
                   "from",
    "stage_problem": "{stage}: {problem}",
    "policy_scoped_to": "policy {reference} is scoped to {scope}; this server serves run "
                        "{run!r}",
    "policy_failed": "policy {reference} failed ({reason}); serving the plain ranking",
    # who may do what (engine.access.roles)
    "may_not": "{name} ({role}) may not {what}: that needs the {needed} role; ask a publisher "
               "to change roles.toml",
    "role_viewer": "viewer",
    "role_editor": "editor",
    "role_publisher": "publisher",
    "role_unknown": "an unknown role",
    "action_view": "look at the studio",
    "action_read_history": "read a shopper's history",
    "action_import": "import data",
    "action_train": "train a run",
    "action_save_draft": "save a policy draft",
    "action_publish": "publish a policy",
    "action_rollback": "roll a policy back",
    "action_set_targets": "put exposure targets live",
    "action_start_experiment": "start an experiment",
    "action_stop_experiment": "stop an experiment",
    "action_refresh": "refresh the served model",
}
