"""A tiny FAQ for the synthetic shop of `serving_runs`, with questions whose answers are known."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = ["id", "question", "answer", "product_ids", "categories"]
ROWS = [
    ["returns", "How do I return an item?",
     "<p>Send it back within <b>30 days</b> with the receipt and we refund the full price.</p>",
     "", ""],
    ["shipping", "How long does delivery take?",
     "Orders leave our warehouse in two working days and arrive within a week.", "", ""],
    ["headphones", "Do the headphones work with a phone?",
     "Yes: every pair pairs over Bluetooth with any phone, tablet or laptop.", "P005",
     "Electronics > Headphones"],
    ["teddy", "Can the plush toys be machine washed?",
     "Plush toys and teddy bears can be washed at 30 degrees in a laundry bag.", "P004",
     "Toys & Games > Plush Toys"],
    ["payment", "Which payment methods do you accept?",
     "We take credit and debit cards, PayPal and bank transfer.", "", ""],
    ["", "an entry without an id", "never kept", "", ""],
    ["returns", "How do I return an item twice?", "a repeated id", "", ""],
]
# paraphrased questions → the FAQ entry that answers them
KNOWN = {
    "can I send my order back for a refund": "returns",
    "when will my parcel arrive": "shipping",
    "will these earphones connect to my smartphone": "headphones",
    "is it ok to put the teddy in the washing machine": "teddy",
    "can I pay by card": "payment",
}


def write_faq(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "faq.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *ROWS])
    return path
