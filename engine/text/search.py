"""Item text for search and cold start: the run's encoder, built lazily, and the item embeddings.

Queries and items must be encoded by the same text model, so the encoder settings come from the
run (`run.json` → `encoder`, or `configs.encoder`), defaulting to the bundled MiniLM. Item text
embeddings are read from the run's tensors when it stored them (`text_embeddings`); otherwise
the catalogue text is encoded once, on first use (the encoder's disk cache makes it one-off).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors import safe_open

from engine.core.columns import BRAND, CATEGORY, DESCRIPTION, TITLE
from engine.core.config import EncoderConfig
from engine.core.errors import ConfigError, PrismError, RunError
from engine.core.files import staged_file
from engine.data.schema import Dataset
from engine.runs.store import ITEMS, MODEL_PREFIX, MODEL_TENSORS, RUN_JSON
from engine.text.encoders import TextEncoder

TEXT_EMBEDDINGS = "text_embeddings"
# where a run may hold item text embeddings: its own array, or the two-tower's frozen input
STORED_KEYS = (TEXT_EMBEDDINGS, "net.text_embeddings")
SEARCH_VECTORS = "search_vectors.npy"  # written beside the tensors for runs without text input
ENCODE_CHUNK = 256  # texts per progress step
WARM_QUERY = "warm up the query encoder"


def encoder_config_from_meta(meta: dict[str, Any]) -> EncoderConfig:
    """The encoder settings a run was built with; the bundled default when it names none."""
    configs = meta.get("configs") if isinstance(meta.get("configs"), dict) else {}
    values = meta.get("encoder") or configs.get("encoder")
    if not values:
        return EncoderConfig()
    if isinstance(values, str):
        values = {"model_name_or_path": values}
    try:
        return EncoderConfig.from_dict(dict(values))
    except ConfigError as exc:
        raise RunError(f"run.json: encoder settings are invalid ({exc}); retrain the run") from exc


def stored_text_embeddings(run_path: Path) -> np.ndarray | None:
    """(n_items, d) text embeddings saved with the run (search vectors or tensors), or None."""
    side = Path(run_path) / SEARCH_VECTORS
    in_tensors = _tensor_text_embeddings(Path(run_path))
    if side.exists():  # written after training; a cold-start add may have longer tensors
        vectors = np.load(side, allow_pickle=False).astype(np.float32, copy=False)
        if vectors.ndim == 2 and vectors.shape[1] > 0 and (
                in_tensors is None or len(vectors) >= len(in_tensors)):
            return vectors
    return in_tensors


def _tensor_text_embeddings(run_path: Path) -> np.ndarray | None:
    path = run_path / MODEL_TENSORS
    if not path.exists():
        return None
    with safe_open(str(path), framework="numpy") as handle:
        keys = set(handle.keys())
        for key in STORED_KEYS:
            if MODEL_PREFIX + key in keys or key in keys:
                name = key if key in keys else MODEL_PREFIX + key
                vectors = np.asarray(handle.get_tensor(name), dtype=np.float32)
                if vectors.ndim == 2 and vectors.shape[1] > 0:
                    return vectors
    return None


def item_texts(items: pd.DataFrame) -> list[str]:
    """What the encoder reads per item, built exactly as the data layer builds it."""
    frame = items.copy()
    for column in (TITLE, DESCRIPTION, CATEGORY, BRAND):
        if column not in frame.columns:
            frame[column] = ""
    return Dataset(name="serving", items=frame.reset_index(drop=True),
                   events=pd.DataFrame()).item_text()


class TextIndex:
    """Lazily built query encoder + item text embeddings, safe to share across threads.

    Queries go through an encoder without the disk cache: each query is new, and a cache
    lookup reads every shard. Item text (catalogue, cold start) uses the cached encoder.
    """

    def __init__(self, config: EncoderConfig, stored: np.ndarray | None = None) -> None:
        self.config = config
        self._embeddings = stored
        self._encoders: dict[bool, Any] = {}
        self._lock = threading.Lock()
        self._build_lock = threading.Lock()

    def _get_encoder(self, cached: bool) -> Any:
        with self._lock:  # build each encoder once; the encoder guards its own tokenizer
            if cached not in self._encoders:
                self._encoders[cached] = TextEncoder(self.config, progress=False, cache=cached)
            return self._encoders[cached]

    def texts(self, items: pd.DataFrame) -> list[str]:
        """What is encoded per item (the data layer's item text)."""
        return item_texts(items)

    def encode(self, texts: list[str], cached: bool = True) -> np.ndarray:
        """(len(texts), d) L2-normalised embeddings; safe from several threads at once."""
        vectors = np.asarray(self._get_encoder(cached).encode(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def encode_query(self, query: str) -> np.ndarray:
        """(d,) embedding of one search query (never cached)."""
        return self.encode([query], cached=False)[0]

    def warm(self) -> threading.Thread:
        """Load the query encoder in a background thread so the first search answers at once.

        Loading the transformer takes seconds; a search that comes before warming ends waits
        on the encoder's own lock for the same load (never a second one) and then proceeds.
        """
        thread = threading.Thread(target=self._warm, name="prism-search-warm", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        # the first real search meets the same error, if any, and reports it to the user
        with contextlib.suppress(PrismError, OSError, RuntimeError, ValueError):
            self.encode_query(WARM_QUERY)  # a first forward pass also sets up the CPU kernels

    def item_embeddings(self, items: pd.DataFrame,
                        progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """(n_items, d) text embeddings for the catalogue, encoding only rows not yet known.

        `progress(done, total)` hears each chunk of newly encoded items (none when all known).
        """
        current = self._embeddings
        if current is not None and len(current) >= len(items):
            return current[: len(items)]
        with self._build_lock:  # one thread encodes the catalogue; the others wait for it
            current = self._embeddings
            if current is not None and len(current) >= len(items):
                return current[: len(items)]
            start = 0 if current is None else len(current)
            texts = self.texts(items.iloc[start:])
            parts = [] if current is None else [current]
            for offset in range(0, len(texts), ENCODE_CHUNK):
                parts.append(self.encode(texts[offset:offset + ENCODE_CHUNK]))
                if progress is not None:
                    progress(min(offset + ENCODE_CHUNK, len(texts)), len(texts))
            combined = np.vstack(parts) if parts else np.zeros((0, 0), dtype=np.float32)
            self._embeddings = combined
            return combined

    def extend(self, embeddings: np.ndarray, old_n_items: int) -> None:
        """Append embeddings of items just added (already encoded for cold start)."""
        current = self._embeddings
        if current is not None and len(current) == old_n_items:
            self._embeddings = np.vstack([current, embeddings])

    def n_known(self) -> int:
        """How many items' embeddings are known (encoded or stored)."""
        current = self._embeddings
        return 0 if current is None else len(current)

    def known(self, n_items: int) -> np.ndarray | None:
        """The item embeddings if all `n_items` are encoded already, else None."""
        current = self._embeddings
        return None if current is None or len(current) < n_items else current[:n_items]


def write_search_vectors(run_path: str | Path, vectors: np.ndarray,
                         name: str = SEARCH_VECTORS) -> Path:
    """Save item text vectors beside the run's tensors (atomically) so search starts warm."""
    target = Path(run_path) / name
    with staged_file(target) as staging, open(staging, "wb") as handle:
        np.save(handle, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
    return target


def ensure_search_vectors(run_path: str | Path,
                          progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The run's item text vectors, encoded and saved once when the run holds none.

    Called right after training (`prism train`, the studio) so the first search of any model,
    EASE included, reads vectors instead of encoding the whole catalogue behind a spinner.
    """
    return ensure_run_vectors(run_path, stored_text_embeddings(Path(run_path)), TextIndex,
                              SEARCH_VECTORS, progress)


def ensure_run_vectors(run_path: str | Path, stored: np.ndarray | None,
                       index_class: type[TextIndex], name: str,
                       progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """One text view's item vectors of a run: `stored` when it covers every item, else
    encoded by `index_class` (what is stored is reused) and saved as `name` in the run."""
    folder = Path(run_path)
    items = pd.read_parquet(folder / ITEMS)
    if stored is not None and len(stored) >= len(items):
        return stored[: len(items)]
    meta = json.loads((folder / RUN_JSON).read_text())
    vectors = index_class(encoder_config_from_meta(meta), stored).item_embeddings(
        items, progress=progress)
    write_search_vectors(folder, vectors, name)
    return vectors

