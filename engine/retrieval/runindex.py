"""The candidate index a run serves from: FAISS over the served model's item vectors.

Built after training (or later, `prism index build --run R`) and kept in `<run>/retrieval/`:
`index.faiss` and `index.json` (kind, item count, which model part, the search setting chosen,
the recall it reached on sample shoppers, build seconds). Kinds, all inner product:

- `ivf-sq8` (the default): an inverted file whose rows are stored as 8-bit codes, one byte per
  dimension (a quantised item table, a quarter of float32); candidates are re-scored exactly;
- `ivf`: the same inverted file with float32 rows;
- `hnsw`: a navigable small-world graph (32 links per item) over float32 rows.

docs/benchmarks/ann_serving.md compares them at 1,000,000 items (why `ivf-sq8` is the
default). The search setting (nprobe for IVF, efSearch for HNSW) is the smallest power of two
whose recall@`tune_n` against exact scoring reaches `target_recall` on sample shoppers.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from engine.core.errors import ConfigError, RunError
from engine.core.files import swap_folder, write_json_atomic
from engine.retrieval.ann import (
    ExactIndex,
    _as_matrix,
    _import_faiss,
    default_n_lists,
    recall_at_n,
)
from engine.runs.store import RETRIEVAL, SERVING_MODEL, load_run

INDEX_FOLDER, INDEX_FILE, INDEX_JSON = RETRIEVAL, "index.faiss", "index.json"
INDEX_KINDS = ("ivf-sq8", "ivf", "hnsw")
DEFAULT_KIND = "ivf-sq8"
AUTO_MIN_ITEMS = 100_000  # runs with at least this many items get an index after training
HNSW_LINKS = 32
TUNE_N = 100  # recall@100 of the candidates is what the index is tuned for
MAX_SETTING = 4096


@dataclass(frozen=True)
class IndexInfo:
    """What index.json records."""

    kind: str
    n_items: int
    dim: int
    part: str  # the run part whose item vectors it holds (evaluation | serving)
    setting: int  # nprobe (IVF) or efSearch (HNSW)
    recall: float  # recall@tune_n against exact on the tuning shoppers
    tune_n: int
    tune_queries: int
    build_seconds: float
    index_bytes: int
    target_recall: float = 0.95  # what the setting was tuned to reach (a rebuild aims the same)


class ItemIndex:
    """A FAISS index over item vectors with `search(queries, n)` → (scores, positions)."""

    def __init__(self, index, info: IndexInfo) -> None:  # noqa: ANN001 - a faiss.Index
        self.index, self.info = index, info
        self.apply_setting(info.setting)

    @property
    def n_items(self) -> int:
        return self.info.n_items

    def apply_setting(self, value: int) -> None:
        faiss = _import_faiss()
        name = "efSearch" if self.info.kind == "hnsw" else "nprobe"
        faiss.ParameterSpace().set_index_parameter(self.index, name, int(value))

    def search(self, queries: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(B, n) approximate scores and item positions, best first; -1 pads short rows."""
        queries = _as_matrix(queries, "query vectors", self.info.dim)
        if self.info.kind == "hnsw":  # HNSW returns at most efSearch results
            self.apply_setting(max(self.info.setting, n))
        scores, positions = self.index.search(queries, int(n))
        return scores, positions.astype(np.int64)


def factory_string(kind: str, n_items: int) -> str:
    if kind not in INDEX_KINDS:
        raise ConfigError(f"index kind must be one of {', '.join(INDEX_KINDS)}, got {kind!r}")
    if kind == "hnsw":
        return f"HNSW{HNSW_LINKS},Flat"
    lists = default_n_lists(n_items)
    return f"IVF{lists},SQ8" if kind == "ivf-sq8" else f"IVF{lists},Flat"


def build_item_index(item_vectors: np.ndarray, tune_queries: np.ndarray, *,
                     kind: str = DEFAULT_KIND, part: str = "serving",
                     target_recall: float = 0.95, tune_n: int = TUNE_N,
                     seed: int = 0) -> ItemIndex:
    """Train, fill and tune an index over `item_vectors` (N, d) for `tune_queries` (B, d)."""
    faiss = _import_faiss()
    items = _as_matrix(item_vectors, "item vectors")
    queries = _as_matrix(tune_queries, "tuning queries", items.shape[1])
    started = time.perf_counter()
    faiss.omp_set_num_threads(max(1, faiss.omp_get_max_threads()))
    index = faiss.index_factory(items.shape[1], factory_string(kind, len(items)),
                                faiss.METRIC_INNER_PRODUCT)
    if kind != "hnsw":
        rng = np.random.default_rng(seed)
        sample = items if len(items) <= 100_000 else \
            items[np.sort(rng.choice(len(items), 100_000, replace=False))]
        faiss.extract_index_ivf(index).cp.seed = seed
        index.train(sample)
    index.add(items)
    tune_n = min(tune_n, len(items))
    _, truth = ExactIndex(items, device="cpu").search(queries, tune_n)
    built = ItemIndex(index, IndexInfo(kind, len(items), items.shape[1], part, 1, 0.0, tune_n,
                                       len(queries), 0.0, 0))
    setting, recall = _tune(built, queries, truth, target_recall)
    info = IndexInfo(kind, len(items), items.shape[1], part, setting, round(recall, 4), tune_n,
                     len(queries), round(time.perf_counter() - started, 2),
                     int(faiss.serialize_index(index).nbytes), target_recall)
    return ItemIndex(index, info)


def _tune(index: ItemIndex, queries: np.ndarray, truth: np.ndarray,
          target: float) -> tuple[int, float]:
    """Smallest power-of-two setting whose recall reaches `target` (the largest tried else)."""
    n = truth.shape[1]
    limit = MAX_SETTING if index.info.kind == "hnsw" else min(
        MAX_SETTING, _import_faiss().extract_index_ivf(index.index).nlist)
    setting = max(1, n) if index.info.kind == "hnsw" else 1
    while True:
        index.apply_setting(setting)
        recall = recall_at_n(index.index.search(queries, n)[1], truth)
        if recall >= target or setting >= limit:
            return setting, recall
        setting *= 2


def save_item_index(run_dir: str | Path, built: ItemIndex) -> Path:
    """Write `<run>/retrieval/` (replacing an older index only once the new one is whole)."""
    faiss = _import_faiss()

    def fill(staging: Path) -> None:
        faiss.write_index(built.index, str(staging / INDEX_FILE))
        write_json_atomic(staging / INDEX_JSON, asdict(built.info))

    return swap_folder(Path(run_dir) / INDEX_FOLDER, fill)


def read_index_info(run_dir: str | Path) -> IndexInfo | None:
    """index.json of a run's index, or None when the run has none."""
    path = Path(run_dir) / INDEX_FOLDER / INDEX_JSON
    if not path.exists():
        return None
    try:
        return IndexInfo(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise RunError(f"{path}: unreadable candidate index description ({exc}); rebuild it "
                       "with prism index build --run RUN") from exc


def load_item_index(run_dir: str | Path) -> ItemIndex | None:
    """The run's saved index (memory-mapped where FAISS can), or None when it has none."""
    info = read_index_info(run_dir)
    if info is None:
        return None
    faiss = _import_faiss()
    path = Path(run_dir) / INDEX_FOLDER / INDEX_FILE
    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise RunError(f"{path}: cannot read the candidate index ({str(exc)[:200]}); "
                           "rebuild it with prism index build --run RUN") from exc
    return ItemIndex(index, info)


TUNE_SHOPPERS = 1000  # sample shoppers whose query vectors tune the search setting


def build_run_index(run_dir: str | Path, *, kind: str = DEFAULT_KIND,
                    target_recall: float = 0.95, seed: int = 0) -> IndexInfo:
    """Build and save the candidate index of a run's served model (RunError / ConfigError
    when the run's model scores without item vectors)."""
    factory_string(kind, 1)  # an unknown kind fails before the run loads
    run = load_run(run_dir, model="serving")
    built = model_index(run.model, len(run.user_ids), part=run.part, kind=kind,
                        target_recall=target_recall, seed=seed, name=run.path.name)
    save_item_index(run.path, built)
    return built.info


def model_index(model, n_users: int, *, part: str, kind: str = DEFAULT_KIND,  # noqa: ANN001
                target_recall: float = 0.95, seed: int = 0, name: str = "") -> ItemIndex:
    """An index over `model`'s item vectors (a BaseModel with query vectors), its search
    setting tuned on up to TUNE_SHOPPERS of its `n_users` shoppers; not saved."""
    if model.item_vectors() is None or not hasattr(model, "query_vectors"):
        raise ConfigError(f"run {name} serves a {model.name} model, which scores "
                          "without item vectors; a candidate index needs a two-tower run")
    return build_item_index(index_vectors(model), _tune_queries(model, n_users, seed),
                            kind=kind, part=part, target_recall=target_recall, seed=seed)


def index_vectors(model) -> np.ndarray:  # noqa: ANN001 - a BaseModel
    """The item table a model's index holds: what its query vectors score against."""
    return getattr(model, "scoring_vectors", model.item_vectors)()


def _tune_queries(model, n_users: int, seed: int = 0) -> np.ndarray:  # noqa: ANN001
    rng = np.random.default_rng(seed)
    return model.query_vectors(np.sort(rng.choice(n_users, min(n_users, TUNE_SHOPPERS),
                                                  replace=False)))


UPDATE_MAX_SHARE = 0.1  # more changed items than this share: the lists are trained again


def refreshed_index(run_dir: str | Path, model, n_users: int,  # noqa: ANN001 - a BaseModel
                    before: np.ndarray, before_part: str, part: str = SERVING_MODEL
                    ) -> tuple[ItemIndex, int | None] | None:
    """The run's candidate index over `model`'s item vectors after a refresh (`before`: the
    item table of the run part `before_part` served until now), with the saved index's kind
    and recall target, and its search setting tuned again: an inverted file that held
    `before` keeps its trained lists and re-encodes only the items whose vectors changed,
    when at most UPDATE_MAX_SHARE did; HNSW, another part's index or a larger change is
    built again. (index, items re-encoded — None when built again), or None when the run
    has no index."""
    info = read_index_info(run_dir)
    if info is None:
        return None
    after = index_vectors(model)
    n = info.n_items  # items added since the index was built stay scored exactly
    held = info.part == before_part and before.shape == after.shape and \
        after.shape[1] == info.dim and n <= len(after)
    changed = np.flatnonzero((before[:n] != after[:n]).any(axis=1)) if held else None
    if info.kind == "hnsw" or changed is None or len(changed) > UPDATE_MAX_SHARE * n:
        return model_index(model, n_users, part=part, kind=info.kind,
                           target_recall=info.target_recall, name=Path(run_dir).name), None
    started, faiss = time.perf_counter(), _import_faiss()
    index = faiss.read_index(str(Path(run_dir) / INDEX_FOLDER / INDEX_FILE))
    if len(changed):
        index.remove_ids(changed.astype(np.int64))
        index.add_with_ids(_as_matrix(after[changed], "item vectors"), changed.astype(np.int64))
    queries = _tune_queries(model, n_users)
    truth = ExactIndex(_as_matrix(after[:n], "item vectors"), device="cpu").search(
        queries, info.tune_n)[1]
    setting, recall = _tune(ItemIndex(index, info), queries, truth, info.target_recall)
    updated = replace(info, part=part, setting=setting, recall=round(recall, 4),
                      tune_queries=len(queries),
                      build_seconds=round(time.perf_counter() - started, 2),
                      index_bytes=int(faiss.serialize_index(index).nbytes))
    return ItemIndex(index, updated), len(changed)


def wants_index(n_items: int, model) -> bool:  # noqa: ANN001 - a BaseModel
    """Whether a run gets an index after training without being asked: a large catalogue
    served by a model with query vectors, with FAISS installed."""
    from engine.retrieval.ann import faiss_available

    return n_items >= AUTO_MIN_ITEMS and hasattr(model, "query_vectors") and faiss_available()
