"""Words the engine says to people — explanations and notices — with a code and values.

A `Message` is a `str` (its English text, so the API, the CLI and CSV exports use it as
before) that also carries a stable `code` and the `values` in it; the studio shows
`code` through its translation table (`engine.<code>`, whose English text equals the
template here — a test keeps them equal). An `Explanation` joins an item's messages with
"; " and keeps them as `parts`.

Templates are `str.format` templates (`render`), plus one form for counted words:
`{n:item|items}` is "item" when n is 1, else "items" ("1 row", "3 rows"); a language
without plural forms just writes its word.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from engine.core.data_error_texts import DATA_ERRORS
from engine.core.error_texts import ERRORS
from engine.core.model_error_texts import MODEL_ERRORS

TEMPLATES = {
    # stages of training, refitting and refreshing, as progress reports name them
    "stage_starting": "Starting",
    "stage_index": "Building the candidate index",
    "stage_loading": "Loading the data",
    "stage_encoding": "Encoding the texts of {n:,} products (counted once per distinct text)",
    "stage_training": "Training {model}",
    "stage_evaluating": "Evaluating",
    "stage_saving": "Saving the run",
    "stage_search_texts": "Encoding item text for search",
    "stage_search_titles": "Encoding item titles for search",
    "stage_refit": "Refitting {model} on every event for serving",
    "stage_refit_epochs": "Refitting {model} on every event for serving ({epochs} epochs)",
    "stage_finetune": "Fine-tuning {model} on {interactions:,} new "
                      "{interactions:interaction|interactions} from {events:,} "
                      "{events:event|events}",
    "stage_saving_version": "Saving version {version}",
    "similar_to": "similar to {items}",
    "carried_by": "carried by {items} ({method})",
    "score_parts": "score parts: {parts} (cosine {total:.2f})",
    "category": "category {label}",
    "category_gain": "category {label} (adds {gain:+.2f} variety)",
    "category_new": "a category this shopper has not bought from: {label}",
    "category_new_gain": "a category this shopper has not bought from: {label} "
                         "(adds {gain:+.2f} variety)",
    "category_known": "matches the shopper's interest in {label}",
    "category_known_gain": "matches the shopper's interest in {label} (adds {gain:+.2f} variety)",
    "no_category": "no category given for this item",
    "no_category_gain": "no category given for this item (adds {gain:+.2f} variety)",
    "buy_again": "bought before, {days:.0f} days ago; usually bought again every "
                 "{interval:.0f} days (due {due:.2f})",
    "text_match": "text match {score:.2f}",
    "popular_lately": "popular lately: {score:.1f} weighted interactions, recent ones counting "
                      "most (weight halves every {days:g} days)",
    "boosted": "boosted {boost:+.2f}",
    "only_n_match": "only {n} items match the filters (asked for {k})",
    "empty_history": "the history is empty: showing trending items instead",
    "no_shopper": "no shopper or history given: showing trending items instead",
    "unknown_shopper_trending": "unknown shopper {user}: showing trending items instead",
    "unknown_shopper_search": "unknown shopper {user}: results are not personalised",
    "no_good_match": "no good match for {query}: none of its words is in the catalogue's "
                     "titles, categories or brands, and its best text match ({best:.2f}) is no "
                     "higher than what nonsense words reach here ({ceiling:.2f}); these are "
                     "only the closest items — try other words",
    "faq_products": "its answer is about {items}",
    "faq_categories": "its answer covers {labels}",
    "faq_affinity": "{share:.0%} of the shopper's purchases are among its products or "
                    "categories",
    "faq_links": "named in FAQ answer {faq}",
    "no_faq": "this run's data has no FAQ: only products are shown (import a faq.csv with the "
              "data and train again)",
    "no_good_faq": "no FAQ entry answers {query} well: its best text match ({best:.2f}) is no "
                   "higher than what nonsense words reach in this FAQ ({ceiling:.2f}) and none "
                   "of its words is in the FAQ; these are only the closest entries",
    # how a model credits history items, and the parts of a two-tower score
    "credit_attention": "attention × similarity",
    "credit_ease": "EASE item-item weight",
    "credit_knn": "item-kNN similarity",
    "part_text": "text",
    "part_id": "ID",
    "part_category": "category",
    "part_offset": "shared offset",
    "part_diversity": "diversity direction (α)",
    "score_part": "{name} {value:+.2f}",
    # uploads the studio refuses (engine.data.importing.stage_uploads)
    "no_uploads": "no files uploaded; add the product and order exports",
    "upload_too_big": "{file}: {mb:.1f} MB is over the upload limit of {limit:.0f} MB; import "
                      "it with `prism data import` or from a server folder",
    "empty_upload": "{file}: the file is empty; export the table again",
    "binary_file": "{file}: looks like a binary file, not a text table (it holds NUL bytes); "
                   "export the table as CSV or TSV",
    # what a policy's stages did to an item (engine.policy.attribution) and the stages' labels
    "pinned_at": "pinned at {slot}",
    "promoted_slot": "promoted slot",
    "promoted_item": "promoted item ({rule}), placed by relevance",
    "moved_by": "moved from {base} to {slot} by {by}",
    "then_moved_by": "then to {slot} by {by}",
    "shifted_by_pins": "shifted to {slot} by pins",
    "shifted_by": "shifted to {slot} by {by}",
    "the_policy": "the policy",
    "label_boost": "{match} {strength:+.2f}",
    "label_promote": "promote {match} {share:.0%}",
    "label_cap": "cap {column} ≤ {n}",
    "cap_by_brand": "brand",
    "cap_by_category": "category",
    "cap_by_price_band": "price band",
    "label_pin": "pin {item} at {slot}",
    "label_buy_again": "buy again",
    "label_diversify": "{method} {weight:g}",
    "label_floor_quantile": "floor quantile {value:g}",
    "label_floor_relevance": "floor relevance {value:g}",
    "label_quota": "quota {name} ≥ {low}",
    "label_quota_caps": "quota caps",
    "method_calibrated": "calibrated",
    "method_quota": "QUOTA",
    "label_filter": "filter #{n}",
    "label_stage": "stage #{n}",
    "match_brand": "brand {names}",
    "match_category": "category {names}",
    "match_items": "{n} listed {n:item|items}",
    "match_promo": "promo",
    "match_not_promo": "not promo",
    "match_price": "price {low}–{high}",
    "match_column": "{column} in {values}",
    # how an exposure ledger read its groups (engine.exposure.groups)
    "groups_below_root": "every path starts with {root!r}; grouped by the level below",
    "groups_new_items": "new = first seen in the {days} days up to the last training "
                        "interaction",
    "groups_popularity": "popularity deciles of training interactions; D10 = most popular",
    # group labels Prism makes (engine.exposure.groups.group_label), not data
    "group_none": "(none)",
    "group_no_price": "no price",
    "group_no_brand": "no brand",
    "group_no_category": "no category",
    "group_promo": "promo",
    "group_regular": "regular",
    "group_new": "new",
    "group_established": "established",
    **ERRORS,
    **DATA_ERRORS,
    **MODEL_ERRORS,
}


class _Words(string.Formatter):
    """`str.format` plus `{n:one|many}`: the word for a count."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return one if value == 1 else many
        return super().format_field(value, format_spec)


_WORDS = _Words()


def render(template: str, **values: Any) -> str:
    """`template` with `values`, as `str.format` and with counted words (module docstring)."""
    return _WORDS.format(template, **values) if "|" in template else template.format(**values)


class Message(str):
    """English text that remembers its `code` and `values` (see the module docstring)."""

    code: str
    values: dict[str, Any]

    def __new__(cls, code: str, **values: Any) -> Message:
        text = render(TEMPLATES[code], **values)
        message = super().__new__(cls, text)
        message.code, message.values = code, dict(values)
        return message

    def __reduce__(self) -> tuple:
        return _message, (self.code, self.values)


def _message(code: str, values: dict[str, Any]) -> Message:
    return Message(code, **values)


def shown_value(value: float, places: int = 2) -> float:
    """`value` rounded to the places a message shows, a negative zero made zero: a part of
    -0.001 reads +0.00, never -0.00."""
    return round(float(value), places) + 0.0


def fixed(value: float, places: int = 4, sign: str = "") -> str:
    """`value` with `places` decimals (`sign` "+" to always show one), a value that rounds
    to zero written 0.0000, never -0.0000: how a metric or a difference of two is shown."""
    return f"{shown_value(value, places):{sign}.{places}f}"


def shown_ids(ids: Sequence[object], limit: int) -> tuple[str, str]:
    """The first `limit` of `ids` quoted and joined with ", ", and " and N more" (a Message;
    "" when none is left out): how an error names a list of ids."""
    shown = ", ".join(map(repr, ids[:limit]))
    return shown, Message("ids_more", n=len(ids) - limit) if len(ids) > limit else ""


class Explanation(str):
    """An item's reasons joined with "; ", each kept in `parts` (Messages or plain text)."""

    parts: tuple[str, ...]

    def __new__(cls, parts: list[str] | tuple[str, ...]) -> Explanation:
        explanation = super().__new__(cls, "; ".join(parts))
        explanation.parts = tuple(parts)
        return explanation

    def __reduce__(self) -> tuple:
        return Explanation, (self.parts,)


class Listing(str):
    """Labels joined with `joiner` (", " or " & "), each kept in `parts` (Messages or plain
    text), so the studio can join their translations."""

    parts: tuple[str, ...]
    joiner: str

    def __new__(cls, parts: list[str] | tuple[str, ...], joiner: str = ", ") -> Listing:
        listing = super().__new__(cls, joiner.join(parts))
        listing.parts, listing.joiner = tuple(parts), joiner
        return listing

    def __reduce__(self) -> tuple:
        return Listing, (self.parts, self.joiner)


JSON_PROBLEMS = {TEMPLATES[code]: code for code in TEMPLATES if code.startswith("json_")}


def json_problem(text: str) -> str:
    """What Python's JSON reader said (`JSONDecodeError.msg`), as a `Message` when it is one
    of its usual complaints, else as it is."""
    return Message(JSON_PROBLEMS[text]) if text in JSON_PROBLEMS else text
