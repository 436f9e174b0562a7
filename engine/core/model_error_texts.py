"""The English templates of the errors training and the text encoder raise with a code
(engine.text.encoders, engine.training.refresh): joined into `engine.core.messages.TEMPLATES`,
so the CLI prints exactly these words and the studio's Training page says them in its own
language."""

from __future__ import annotations

MODEL_ERRORS = {
    # the text encoder's model folder (engine.text.encoders)
    "encoder_no_config": "encoder {path!r} has no config.json: it is not a Hugging Face model "
                         "folder; pass a folder saved with save_pretrained.",
    "encoder_path_missing": "encoder path {path!r} does not exist; pass an existing model "
                            "folder, or leave it empty for the bundled all-MiniLM-L6-v2.",
    "encoder_cannot_load": "cannot load encoder {path!r}: {error}; pass a local model folder "
                           "or a name already in the Hugging Face cache.",
    "encoder_no_tokenizer": "encoder {path!r} has no usable text tokenizer ({error}); is it a "
                            "text model?",
    "encoder_not_text": "encoder {path!r} is not a text model (no tokenizer).",
    "encoder_no_pad": "encoder {path!r}: the tokenizer has no pad, eos or unk token.",
    "encoder_no_weights": "cannot load encoder weights from {path!r}: {error}",
    "encoder_reads_other": "encoder {path!r} is not a text model (it reads {reads!r}); choose a "
                           "language model.",
    # refreshing a served run with new events (engine.training.refresh)
    "refresh_columns": "events for the refresh lack the {n:column|columns} {missing}",
    "refresh_no_events": "no new events for run {path} since event {through}: nothing to "
                         "refresh; send events to POST /events or `prism events import` first.",
    "refresh_unknown_items": "the {n:,} new {n:event|events} all name items run {path} does "
                             "not know; add the items (prism items add) or retrain the run.",
    # a training job that stopped on an error the engine did not expect (dashboard.jobs)
    "training_unexpected": "training stopped with an unexpected error: {error}",
}
