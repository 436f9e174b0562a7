"""The English templates of the errors the engine raises with a code (see engine.core.errors).

Each is joined into `engine.core.messages.TEMPLATES`, so an error raised as
`ConfigError(Message("policy_reference", reference=text))` prints exactly this text in the CLI
and the API, and the studio shows `engine.<code>` from its translation table.
"""

from __future__ import annotations

ERRORS = {
    # policies: their names, their JSON, their stages (engine.policy.schema)
    # the one rule for names: policies, data sets, runs, experiments, arms (engine.core.names)
    "name_rule": "use 1-64 letters (of any script), digits, '.', '_' or '-', starting with a "
                 "letter or digit",
    "bad_name": "{what} {name!r}: {rule}",
    "what_policy_name": "policy name",
    "what_dataset_name": "dataset name",
    "what_run_name": "run name",
    "what_experiment_name": "experiment name",
    "what_arm_name": "arm name",
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
    "price_order": "the lowest price {low:g} is above the highest price {high:g}",
    "filter_empty": "a filter needs price_min/price_max, keep, drop or exclude_seen",
    "cap_column_unique": "a cap per {column!r} caps nothing (nearly every item has its own "
                         "value); cap per brand, category, price_band or a column with a few "
                         "values",
    "floor_one_bound": "a floor takes exactly one of quantile or min_relevance",
    "quota_needs_quotas": "method 'quota' needs quotas, e.g. {example}",
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
    "pydantic_enum": "Input should be {expected}",
    "pydantic_choices": "{first} or {last}",
    "pydantic_quoted": "'{value}'",
    "pydantic_union_tag_invalid": "Input tag {tag!r} found using {discriminator} does not "
                                  "match any of the expected tags: {expected_tags}",
    "pydantic_union_tag_not_found": "Unable to extract tag using discriminator "
                                    "{discriminator}",
    "pydantic_list_type": "Input should be a valid list",
    "pydantic_dict_type": "Input should be a valid dictionary",
    "pydantic_string_type": "Input should be a valid string",
    "pydantic_int_type": "Input should be a valid integer",
    "pydantic_float_type": "Input should be a valid number",
    "pydantic_bool_type": "Input should be a valid boolean",
    "pydantic_bool_parsing": "Input should be a valid boolean, unable to interpret input",
    "pydantic_int_from_float": "Input should be a valid integer, got a number with a "
                               "fractional part",
    "pydantic_finite_number": "Input should be a finite number",
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
    # run folders (engine.runs.store)
    "run_missing": "run folder {path} does not exist; train one with `prism train --data DIR "
                   "--out {path}`.",
    "run_unreadable": "{path} cannot be read ({error}); the run is corrupt, retrain it.",
    "run_incomplete": "run folder {path} is missing {missing}; it is incomplete or not a run "
                      "folder. Retrain it with `prism train --data DIR --out RUN`.",
    "run_format": "run folder {path} has format version {version!r} but this Prism reads "
                  "version {reads}; retrain it with this version of prism.",
    "run_bad_file": "run folder {path} has an unreadable file ({error}); retrain it.",
    # what a served request names (engine.serving)
    "unknown_shopper": "unknown shopper {user!r}: not in this run's data",
    "unknown_item": "unknown item id {item!r}",
    "unknown_history_items": "history holds {n} unknown item {n:id|ids}: {shown}{more}; use "
                             "ids from the run's catalogue",
    "empty_query": "query is empty; type a few words to search for",
    "empty_question": "question is empty; type the shopper's question",
    "long_question": "question is {n:,} characters; keep it under {most}",
    "unknown_category": "{field}: unknown category {unknown}; known categories are {known}",
    "unknown_categories": "{field}: unknown categories {unknown}; known categories are {known}",
    # exposure targets and their prices (engine.exposure)
    "field_group": "group",
    "field_min": "min",
    "field_max": "max",
    "field_by": "by",
    "field_new_days": "new_days",
    "field_n_bands": "n_bands",
    "field_targets": "targets",
    "target_needs_bound": "the target for {group!r} needs a floor or a cap (min or max)",
    "target_floor_above": "target for {group!r}: floor {floor:.1%} is above ceiling "
                          "{ceiling:.1%}",
    "targets_not_json": "{path}: not valid JSON ({error}, line {line}); see docs/exposure.md "
                        "for the format",
    "targets_clash": "targets for {group!r} cannot both hold: floor {floor:.1%} is above "
                     "ceiling {ceiling:.1%}",
    "floors_over": "the floors add up to {total:.1%} of exposure over {groups} groups, more "
                   "than 100%; lower some floors so they sum to at most 100%",
    "ceilings_under": "the ceilings cover every group but add up to only {total:.1%}; raise "
                      "some ceilings so they reach 100%",
    "unknown_group": "group {group!r} is not a {by} group; known groups include {known}",
    "targets_bind_nothing": "the targets bound no group (every floor is 0 and every ceiling "
                            "100%); set a min or a max below 100%",
    "prices_other_grouping": "prices were fitted by {fitted!r}, not {asked!r}",
    "no_category_column": "items have no category column, so there is no top category to "
                          "group by",
    "few_prices": "items have too few prices for {bands} price bands; group by another column "
                  "or import prices",
    "no_brand_column": "items have no brand column; group by another column",
    "unknown_grouping": "cannot group by {by!r}: it is neither a named grouping nor an item "
                        "column; use one of {known}",
    "run_data_gone": "the data run {run} was trained on ({path}) is not there; pass the "
                     "dataset folder with --data",
    "run_data_differs": "dataset {where} has {n} items but run {run} was trained on {trained} "
                        "others; use the run's own data",
    # experiments (engine.experiments)
    "no_arms": "an experiment needs at least one arm (name=policy[:share])",
    "arm_names_repeat": "arm names must differ; got {names}",
    "arm_share": "arm {arm}: share {share!r} must be a number above 0",
    "arm_shares_sum": "arm shares add up to {total:g}, not 1; e.g. 0.5 and 0.5",
    "temperature_range": "exploration temperature {temperature!r} must be between 0.05 and 20 "
                         "(rank units; 1 keeps the top item first about 6 times in 10)",
    "pool_range": "exploration pool {pool!r} must be between 2 and 50 items",
    "pool_too_wide": "exploration pool {pool} at temperature {temperature:g} weighs the last "
                     "item e^-{power:.0f} of the first: it would never be shown; use a smaller "
                     "pool or a higher temperature ((pool - 1) / temperature at most {most})",
    "experiment_running": "experiment {name!r} is running; stop it first (prism experiment "
                          "stop {name})",
    "experiment_exists": "an experiment named {name!r} exists; choose another name",
    "experiment_stopped": "experiment {name!r} is already stopped",
    "experiment_unknown": "no experiment named {name!r}; experiments: {known}",
    "experiments_none_yet": "none yet",
    # new items added to a run (engine.serving.coldstart)
    "new_items_no_file": "{path}: no such file; give a CSV or Parquet table of new items",
    "new_items_unreadable": "{name} is not a readable {kind} file ({error}).",
    "new_items_encoding": "{name}: the encoding is ambiguous ({shown}); save the file as UTF-8 "
                          "(e.g. \"CSV UTF-8\") and add it again",
    "new_items_columns": "{name} lacks the {n:column|columns} {missing}. Found: {found}. Expected "
                         "{required} and optionally {optional}.",
    "no_columns": "none",
    "new_items_no_rows": "{name} has a header but no rows.",
    "new_items_table": "the table of new items",
    "new_items_repeated": "new items: item_id repeated in the table: {shown}{more}",
    "new_items_taken": "new items: {n} {n:id|ids} already in the catalogue: {shown}{more}; "
                       "give new items new ids",
    "new_items_blank": "new items: empty id or title in {n} {n:row|rows} (ids {shown}{more}); "
                       "every item needs an id and a title",
    "new_items_price": "new items: {n} {n:price|prices} cannot be read as one amount of zero "
                       "or more (within the run's maximum): {shown}; write a plain number such "
                       "as 12.50 (a value such as 1,299 reads either way unless the run was "
                       "imported with a decimal mark)",
    "new_item_no_category": "new item {item!r} has no category and the run has no {unknown!r} "
                            "category; give it a category path starting with one of "
                            "{names}{more}",
    "new_item_category": "new item {item!r} category {label!r} is not one of the run's "
                         "categories; give it a category path starting with one of "
                         "{names}{more}",
    # the policy and scenarios database (engine.policy.store, engine.policy.scenarios)
    "store_too_new": "the store has schema version {version}, newer than this Prism "
                     "understands ({reads}); upgrade Prism or use another PRISM_HOME.",
    "store_cannot_open": "cannot open the policy store {path}: {error}; check that the folder "
                         "is writable",
    "store_unreadable": "the policy store {path} is unreadable ({error}); move the file aside "
                        "to start a fresh one",
    "scenarios_cannot_open": "cannot open the scenarios database {path}: {error}. Check that "
                             "the folder is writable.",
    "scenarios_unreadable": "the scenarios database {path} is unreadable ({error}). Move or "
                            "delete the file (or use 'Start a fresh database' below); saved "
                            "scenarios in it are lost, everything else keeps working.",
    "scenario_needs_name": "a scenario needs a name; type one and save again.",
    "scenario_unknown": "scenario #{id} does not exist (deleted?).",
    # what Python's JSON reader says is wrong, word for word
    "json_expecting_value": "Expecting value",
    "json_expecting_name": "Expecting property name enclosed in double quotes",
    "json_expecting_colon": "Expecting ':' delimiter",
    "json_expecting_comma": "Expecting ',' delimiter",
    "json_unterminated": "Unterminated string starting at",
    "json_control": "Invalid control character at",
    "json_extra": "Extra data",
    # category quotas a list cannot meet (engine.rerank.quotas)
    "quota_floor_cap": "quotas[{name!r}]: floor {floor} is above cap {cap}",
    "quota_short": "quotas[{name!r}]: floor {floor} but only {n} {pool} are in that category; "
                   "{fix}",
    "quota_floors_over_k": "quotas: floors add up to {floors}, more than the list length "
                           "k={k}; lower the floors or raise k",
    "quota_caps_room": "quota caps leave only {room} eligible {pool} for a list of {slots}; "
                       "raise the caps or lower k",
    "pool_catalogue": "catalogue items",
    "pool_candidates": "candidates",
    "fix_lower_floor": "lower the floor",
    # a policy's kept stages, typed as JSON in the studio
    "stages_not_list": "{where}: write a JSON list of stages, [ ... ]",
    # what a policy's stages cannot do on a catalogue (engine.policy.compile)
    "no_match": "{where} ({match}) matches no item in this catalogue",
    "rule_keep": "{label} keep",
    "no_prices_keep": "{label}: no item has a price, so the price range keeps every item",
    "no_prices_drop": "{label}: no item has a price, so the price range drops every item",
    "pin_missing": "{label}: item {item!r} is not in this catalogue; pin skipped",
    "segment_missing": "{label}: segment categories {categories} are not categories of this "
                       "catalogue; the pin applies to no shopper",
    "no_purchases": "{label}: this run has no purchase table, so nothing comes back (train the "
                    "run again to keep its purchases)",
    "column_unknown": "column {name!r} is not an item column; the catalogue has {shown}",
    "stage_failed": "policy {name!r} stage {n} ({kind}): {error}",
    "kind_filter": "filter",
    "kind_boost": "boost",
    "kind_bury": "bury",
    "kind_promote": "promote",
    "kind_cap": "cap",
    "kind_floor": "floor",
    "kind_diversify": "diversify",
    "kind_pin": "pin",
    "kind_exposure_targets": "exposure_targets",
    "kind_buy_again": "buy_again",
    # what a policy could not do for one shopper (engine.rerank.pipeline, .constrained)
    "pin_beyond_list": "{label}: slot {slot} is beyond the list length {k}; skipped",
    "pin_filtered": "{label}: the item is filtered out or already bought; not pinned (filters "
                    "win)",
    "pin_slot_taken": "{label}: slot {slot} is taken by an earlier pin; skipped",
    "pin_moved_up": "the list is shorter than a pin's slot: the pinned item moved up",
    "only_n_pass": "only {n} items pass the policy (asked for {k})",
    "floor_not_met_caps": "promotion share / quota floor not met (caps win)",
    "floor_not_met_short": "promotion share / quota floor not met (not enough matching "
                           "candidates)",
    "floor_not_met_pins": "promotion share / quota floor not met (pins take the slots or the "
                          "list ended early)",
    "caps_leave_fewer": "caps leave fewer items than the list length",
}
