"""The Training page's form: the values it keeps between page switches and the ranges of
its number boxes.

The boxes take any entry (a box with bounds refuses one outside them with only a tooltip and
keeps the old value); `form_boxes` brings each into its range before the form is drawn and
says what it changed.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.i18n import t
from dashboard.sample_box import FormBoxes, NumberRange
from engine.core import paths
from engine.core.config import DEFAULT_ALPHA
from engine.training import presets

FORM_VALUES = "_train_form_values"  # the form's last values: they outlive page switches
NAME_GENERATION = "_train_name_generation"  # how many jobs this session started


def name_key() -> str:
    """The run-name field's widget key. Each started job gives the field a new key, so the
    fresh name it proposes is a new widget's first value: no value the browser still holds for
    the field (the name just used) can come back over it, whichever rerun draws it first."""
    generation = st.session_state.get(NAME_GENERATION, 0)
    return "train_name" if generation == 0 else f"train_name-{generation}"


def fresh_run_name(taken: str | None = None) -> str:
    """A run name no run folder has yet and other than `taken` (a name a job has just taken,
    whose folder its thread may not have made yet): the time of day, with a counter if need
    be."""
    name, number = presets.new_run_name("twotower"), 1
    while (paths.runs_dir() / name).exists() or name == taken:
        number += 1
        name = f"{presets.new_run_name('twotower')}-{number}"
    return name


FORM_DEFAULTS = {"train_alpha": DEFAULT_ALPHA, "train_beta": 1.0, "train_epochs": 30,
                 "train_dim": 32, "train_tune": False, "train_trials": 8,
                 "train_private": False, "train_epsilon": 4.0, "train_text": True}


def restore_form(folders: dict[str, Path]) -> None:
    """Give each form widget its last submitted (or default) value before it is drawn.

    Streamlit forgets the state of widgets on pages not shown, so coming back during a job
    would otherwise reset the epochs and draw a fresh run name.
    """
    saved = st.session_state.setdefault(FORM_VALUES,
                                        {**FORM_DEFAULTS, "train_name": fresh_run_name()})
    for key, value in saved.items():
        key = name_key() if key == "train_name" else key
        if key not in st.session_state:
            st.session_state[key] = value
    if st.session_state.get("train_data") not in folders:
        st.session_state["train_data"] = next(iter(folders))


FITTED = "_train_fitted"  # the boxes' values just fitted, said after a start's rerun too


def form_boxes() -> FormBoxes:
    """The form's number boxes by widget key, with their ranges."""
    return FormBoxes({"train_epochs": NumberRange(1, 200, t("training.epochs")),
                      "train_trials": NumberRange(1, 200, t("training.trials")),
                      "train_epsilon": NumberRange(0.1, 100.0, t("training.epsilon"))}, FITTED)
