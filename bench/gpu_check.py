"""GPU check: the engine's own code on CUDA against the CPU, stage by stage, on the synthetic shop.

    bash bench/gpu_check.sh                                  # picks a CUDA python, runs this
    python bench/gpu_check.py --device cuda                  # the full check, by hand
    python bench/gpu_check.py --smoke --device cpu --out /tmp/gc   # tiny CPU-only smoke

Stages, each under its own time limit (a stage that fails or runs out of time records its
error and the next stage runs; results are rewritten after every stage):
- data: `generate_shop(items, users)` → `build_dataset` → leave-last-out split;
- train: `TwoTowerModel.fit` (full softmax, bf16 autocast on CUDA) on the device for a few
  epochs and on the CPU for a capped number of batches; seconds per epoch = steady seconds
  per batch × batches per epoch (the CPU figure is extrapolated when the cap stops it early);
- score: `engine.evaluation.protocol.rank_users` (user tower + full-catalogue scores + `top_n` with
  seen items hidden) for the test users on each device, and the raw matmul + `torch.topk`
  bound on the same user vectors;
- rerank: `engine.rerank.rerank_batch` (mmr, dpp, calibrated) on each user's top candidates,
  numpy against torch on the device;
- encode: `engine.text.encoders.TextEncoder` (bf16 autocast on CUDA) over item texts on the device,
  and over a subset on the CPU (per-text rate, extrapolated to the device's text count).
Item text features in training are random unit vectors of the default encoder's width (384):
training cost does not depend on their values, and the CPU cannot encode 50,000 texts in time.
When the bundled encoder package is not installed, the encode stage uses a stand-in of the
same architecture (random weights, a WordPiece vocabulary trained on the shop's text) and
says so in the results. Results → docs/benchmarks/gpu.{json,md} (and $OUT when set); --smoke
writes to --out or a temporary folder, never to docs/. The smoke has no time limits: it trains
one whole epoch per fit and re-ranks every sampled user, so its results do not depend on how
fast or busy the machine is (`--deadline` applies to the full check only).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.core.config import EncoderConfig, ModelConfig, TrainConfig  # noqa: E402
from engine.data import build_dataset, generate_shop  # noqa: E402
from engine.evaluation.protocol import calibration_targets, prepare_data, rank_users  # noqa: E402
from engine.models.base import TrainData  # noqa: E402
from engine.models.network import TwoTowerNet  # noqa: E402
from engine.models.trainer import StopTraining  # noqa: E402
from engine.models.twotower import STATE_FORMAT, TwoTowerModel  # noqa: E402

OUT_DIR = REPO / "docs" / "benchmarks"
NAME = "gpu"
STAGES = ("data", "train", "score", "rerank", "encode")
RERANK_METHODS = ("mmr", "dpp", "calibrated")
K = 10
SEED = 0
TEXT_DIM = 384  # width of the default encoder (all-MiniLM-L6-v2)
HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WARM_BATCHES = 3  # first batches of an epoch left out of the steady per-batch time
MINILM = {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
          "intermediate_size": 1536, "vocab_size": 30522, "max_position_embeddings": 512}
TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
             "intermediate_size": 64, "vocab_size": 2000, "max_position_embeddings": 512}
FULL = {"items": 50_000, "users": 20_000, "epochs": 3, "train_soft_s": 60.0,
        "cpu_train_soft_s": 40.0, "score_users": 0, "rerank_users": 8192, "candidates": 200,
        "encode_texts": 5000, "cpu_encode_texts": 400,
        "budgets": {"data": 50, "train": 140, "score": 80, "rerank": 40, "encode": 60}}
# The smoke counts work, never seconds: one full epoch of batches per fit, every rerank user,
# no stage time limits, so a busy or slow machine gives the same (complete) results, later.
SMOKE = {"items": 400, "users": 150, "epochs": 1, "train_soft_s": None,
         "cpu_train_soft_s": None, "score_users": 0, "rerank_users": 64, "candidates": 40,
         "encode_texts": 12, "cpu_encode_texts": 4, "budgets": None}


class StageTimeout(BaseException):  # noqa: N818 - raised by the alarm; not an Exception
    """A stage ran past its time limit (BaseException so library code cannot swallow it)."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise StageTimeout in this (main) thread after `seconds` of wall time."""
    def fire(signum: int, frame: Any) -> None:
        raise StageTimeout(f"stopped after its {seconds:.0f} s limit")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, work: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of `work()`, the device drained before and after."""
    sync(device)
    started = time.perf_counter()
    result = work()
    sync(device)
    return time.perf_counter() - started, result


def ratio(slow: float | None, fast: float | None) -> float | None:
    if not slow or not fast:
        return None
    return round(slow / fast, 2)


class Check:
    """The sizes and the state the stages share (data, texts, the trained model)."""

    def __init__(self, args: argparse.Namespace, sizes: dict[str, Any]):
        self.args, self.sizes = args, sizes
        self.device = torch.device(args.device)
        self.data: TrainData | None = None
        self.texts: list[str] = []
        self.model: TwoTowerModel | None = None
        self.model_origin = ""

    # ---- data -----------------------------------------------------------------------------
    def stage_data(self, out: dict[str, Any], deadline: float) -> None:
        started = time.perf_counter()
        items, events = generate_shop(self.sizes["items"], self.sizes["users"], seed=SEED)
        generated = time.perf_counter() - started
        dataset = build_dataset(items, events, name="synthetic")
        rng = np.random.default_rng(SEED)
        text = rng.normal(size=(len(dataset.items), TEXT_DIM)).astype(np.float32)
        text /= np.linalg.norm(text, axis=1, keepdims=True)
        _, data = prepare_data(dataset, "leave-last-out", seed=SEED, text_embeddings=text)
        self.data, self.texts = data, dataset.item_text()
        out.update({"n_items": data.n_items, "n_users": data.n_users, "raw_events": len(events),
                    "train_interactions": len(data.train),
                    "valid_interactions": len(data.valid), "test_interactions": len(data.test),
                    "text_features": f"random unit vectors, {TEXT_DIM}-d (stand-in for encoded "
                                     "text; training cost does not depend on their values)",
                    "generate_seconds": round(generated, 2),
                    "seconds": round(time.perf_counter() - started, 2)})

    # ---- train ----------------------------------------------------------------------------
    def stage_train(self, out: dict[str, Any], deadline: float) -> None:
        key = self._device_key()
        out[key] = self._fit(self.device, self.sizes["epochs"], self.sizes["train_soft_s"],
                             validate=True)
        cpu_soft = self.sizes["cpu_train_soft_s"]
        if cpu_soft is not None:
            cpu_soft = min(cpu_soft, max((deadline - time.perf_counter() - 5) * 0.8, 1.0))
        out["cpu"] = self._fit(torch.device("cpu"), 1, cpu_soft, validate=False, keep=False)
        out["speedup_epoch"] = ratio(out["cpu"]["epoch_train_seconds"],
                                     out[key]["epoch_train_seconds"])

    def _fit(self, device: torch.device, epochs: int, soft_s: float | None, *, validate: bool,
             keep: bool = True) -> dict[str, Any]:
        """Fit the two-tower model with a per-batch clock; stops at `soft_s` when given (and,
        without `validate`, at the end of the first epoch's batches, before validation runs)."""
        model = TwoTowerModel(ModelConfig(), TrainConfig(device=device.type, epochs=epochs,
                                                          patience=epochs + 1, seed=SEED))
        clock = BatchClock(soft_s, stop_at_epoch_end=not validate)
        started = time.perf_counter()
        model.fit(self.data, callbacks=[clock])
        fit_seconds = time.perf_counter() - started
        if keep:
            self.model, self.model_origin = model, f"trained on {device.type}"
        return {"device": device.type, **clock.summary(), "fit_seconds": round(fit_seconds, 2),
                "threads": torch.get_num_threads() if device.type == "cpu" else None,
                "logs": model.logs_}

    def ensure_model(self) -> TwoTowerModel:
        """The trained model, or (when training failed) fresh weights of the same shape."""
        if self.model is not None:
            return self.model
        from engine.models.trainer import pad_histories

        data = self.data
        torch.manual_seed(SEED)
        config, train_config = ModelConfig(), TrainConfig(seed=SEED)
        net = TwoTowerNet(torch.as_tensor(data.text_embeddings),
                          torch.as_tensor(data.item_categories), data.n_users,
                          train_config.history_len, config)
        tensors = {f"net.{key}": value.numpy() for key, value in net.state_dict().items()}
        tensors["train_histories"] = pad_histories(data.histories(), train_config.history_len)
        meta = {"format": STATE_FORMAT, "model_config": config.to_dict(),
                "train_config": train_config.to_dict(), "n_users": data.n_users}
        self.model = TwoTowerModel.from_state(tensors, meta)
        self.model_origin = "with random weights (the train stage did not finish)"
        return self.model

    # ---- score ----------------------------------------------------------------------------
    def eval_users(self) -> np.ndarray:
        users, _ = self.data.truth(self.data.test)
        cap = self.sizes["score_users"]
        return users[:cap] if cap else users

    def stage_score(self, out: dict[str, Any], deadline: float) -> None:
        model, users, data = self.ensure_model(), self.eval_users(), self.data
        out.update({"model": self.model_origin, "users": int(len(users)),
                    "items": int(data.n_items), "k": K})
        try:
            for name, device in self._sides():
                model.net_.to(device)
                rank_users(model, data, users[:64], k=K)  # warm-up (kernels, allocator)
                seconds, _ = timed(device, lambda: rank_users(model, data, users, k=K))
                bound_s = min(timed(device, lambda d=device: bound(model, users, d))[0]
                              for _ in range(2))
                out[name] = {"rank_users_seconds": round(seconds, 3),
                             "bound_seconds": round(bound_s, 4),
                             "scores_per_second": round(len(users) * data.n_items / seconds)}
        finally:
            model.net_.to(self.device)
        key = self._device_key()
        out["speedup_rank_users"] = ratio(out["cpu"]["rank_users_seconds"],
                                          out[key]["rank_users_seconds"])
        out["speedup_bound"] = ratio(out["cpu"]["bound_seconds"], out[key]["bound_seconds"])

    def _device_key(self) -> str:
        return "cuda" if self.device.type == "cuda" else "device"

    def _sides(self) -> list[tuple[str, torch.device]]:
        """The accelerated side first (it is what the check is for), then the CPU."""
        return [(self._device_key(), self.device), ("cpu", torch.device("cpu"))]

    # ---- rerank ---------------------------------------------------------------------------
    def stage_rerank(self, out: dict[str, Any], deadline: float) -> None:
        from engine.rerank import rerank_batch

        model, data = self.ensure_model(), self.data
        users = self.eval_users()[:self.sizes["rerank_users"]]
        n_cand = min(self.sizes["candidates"], data.n_items)
        relevance, candidates = top_candidates(model, users, n_cand, self.device)
        vectors, cats = model.item_vectors(), data.item_categories
        targets = calibration_targets(data, users, 0.5)
        backend = str(self.device)  # torch on the device ('cpu' in the smoke)
        out.update({"users": int(len(users)), "candidates": n_cand, "k": K, "weight": 0.5,
                    "device_backend": f"torch on {backend}", "cpu_backend": "numpy"})

        def run(method: str, side: str, n: int) -> Any:
            return rerank_batch(method, relevance[:n], candidates[:n], K, 0.5,
                                item_vectors=vectors, item_categories=cats,
                                targets=targets[:n] if method == "calibrated" else None,
                                device=side)

        for index, method in enumerate(RERANK_METHODS):
            probe = min(256, len(users))
            probe_s = 0.0
            for side in (backend, "numpy"):
                run(method, side, min(64, probe))  # warm-up
                probe_s += timed(self.device, lambda m=method, s=side, n=probe: run(m, s, n))[0]
            # users that fit this method's share of the time left (both sides together)
            share = 0.7 * (deadline - time.perf_counter()) / (len(RERANK_METHODS) - index)
            n = len(users) if self.args.smoke else int(
                min(len(users), max(probe, probe * share / max(probe_s, 1e-9))))
            row: dict[str, Any] = {"users": n}
            for side, label in ((backend, "device_seconds"), ("numpy", "cpu_seconds")):
                row[label] = round(timed(self.device,
                                         lambda m=method, s=side, n=n: run(m, s, n))[0], 4)
            row["speedup"] = ratio(row["cpu_seconds"], row["device_seconds"])
            out[method] = row

    # ---- encode ---------------------------------------------------------------------------
    def stage_encode(self, out: dict[str, Any], deadline: float) -> None:
        from engine.text.encoders import TextEncoder

        started = time.perf_counter()
        scratch = Path(tempfile.mkdtemp(prefix="prism-gpu-check-"))
        try:
            texts = spread(self.texts, self.sizes["encode_texts"])
            cpu_texts = spread(texts, self.sizes["cpu_encode_texts"])
            location, kind = encoder_location(self.args.encoder, texts, scratch / "stand-in",
                                              tiny=self.args.smoke)
            out.update({"encoder": kind, "texts": len(texts), "cpu_texts": len(cpu_texts),
                        "setup_seconds": round(time.perf_counter() - started, 2)})
            encoders: dict[str, Any] = {}  # one loaded model per device
            runs = [("device", self.device.type, 64, texts), ("cpu", "cpu", 64, cpu_texts),
                    ("device_batch256", self.device.type, 256, texts)]
            for key, device, batch, chunk in runs:
                config = EncoderConfig(model_name_or_path=location, device=device,
                                       batch_size=batch)
                if device not in encoders:
                    encoders[device] = TextEncoder(config, progress=False, cache=False,
                                                   cache_dir=scratch / "cache")
                encoder = encoders[device]
                encoder.config = config  # same model and settings; only the batch size moves
                encoder.encode(chunk[:batch])  # load the model and warm up outside the timing
                seconds, _ = timed(torch.device(device), lambda e=encoder, c=chunk: e.encode(c))
                backend = encoder._backend
                out[key] = {"batch_size": batch, "texts": len(chunk),
                            "seconds": round(seconds, 3),
                            "texts_per_second": round(len(chunk) / seconds, 1),
                            "autocast": autocast_name(backend.device)}
                if key == "cpu":
                    out["mean_tokens"] = mean_tokens(backend.tokenizer, texts,
                                                     config.max_length)
                    out["cpu"]["extrapolated_seconds_for_all_texts"] = round(
                        len(texts) * seconds / len(chunk), 3)
                    out["cpu"]["note"] = (f"measured on {len(cpu_texts)} of the {len(texts)} "
                                          "texts (spread evenly); the all-texts time is "
                                          "extrapolated per text")
                    out["speedup"] = ratio(out["device"]["texts_per_second"],
                                           out["cpu"]["texts_per_second"])
            out["speedup_batch256"] = ratio(out["device_batch256"]["texts_per_second"],
                                            out["cpu"]["texts_per_second"])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


class BatchClock:
    """Callback: per-batch wall times; raises StopTraining past `soft_s` when one is given
    (or at epoch end)."""

    def __init__(self, soft_s: float | None, stop_at_epoch_end: bool):
        self.soft_s, self.stop_at_epoch_end = soft_s, stop_at_epoch_end
        self.started = time.perf_counter()
        self.epochs: list[list[float]] = []  # batch end times, one list per epoch
        self.total = 0
        self.epoch_ends: list[dict[str, float]] = []
        self.stopped_early = False

    def on_batch_end(self, step: int, total: int) -> None:
        now = time.perf_counter()
        if step == 1:
            self.epochs.append([])
        self.epochs[-1].append(now)
        self.total = total
        if step == total and self.stop_at_epoch_end:
            raise StopTraining
        if self.soft_s is not None and now - self.started > self.soft_s and step < total:
            self.stopped_early = True
            raise StopTraining

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        now = time.perf_counter()
        start = now - logs["seconds"]
        train_end = self.epochs[-1][-1]
        self.epoch_ends.append({"epoch": epoch, "train_seconds": round(train_end - start, 3),
                                "validation_seconds": round(now - train_end, 3),
                                "seconds": round(logs["seconds"], 3)})

    def summary(self) -> dict[str, Any]:
        rates = []
        for times in self.epochs:
            skip = min(WARM_BATCHES, len(times) - 2)  # batches left out as warm-up
            if skip >= 0:
                rates.append((times[-1] - times[skip]) / (len(times) - 1 - skip))
        steady = rates[1:] if len(rates) > 1 else rates  # epoch 1 carries the warm-up
        per_batch = statistics.median(steady) if steady else None
        batches = sum(len(times) for times in self.epochs)
        complete = any(len(times) == self.total for times in self.epochs)
        return {"batches_per_epoch": self.total, "batches_run": batches,
                "seconds_per_batch": None if per_batch is None else round(per_batch, 5),
                "epoch_train_seconds": None if per_batch is None
                else round(per_batch * self.total, 2),
                "extrapolated": not complete,
                "epochs": self.epoch_ends,
                "note": "epoch_train_seconds = median steady seconds per batch (epochs after the "
                        "first when there are any; the first batches of each epoch left out) x "
                        "batches per epoch; validation is timed separately"
                        + ("" if not self.stopped_early else
                           "; stopped at the time cap in epoch "
                           f"{len(self.epochs)} after {len(self.epochs[-1])} batches"
                           + ("" if complete else ", so the epoch is extrapolated"))}


def bound(model: TwoTowerModel, users: np.ndarray, device: torch.device) -> None:
    """User tower + `U @ V.T` + `torch.topk` on `device`, in blocks; no host copies."""
    items = torch.as_tensor(model.item_vectors_, device=device)
    histories = model.train_histories_
    with torch.no_grad():
        for start in range(0, len(users), 4096):
            batch = users[start:start + 4096]
            vecs = model.net_.user_vectors(torch.as_tensor(histories[batch], device=device),
                                           torch.as_tensor(batch, device=device), items)
            torch.topk(vecs @ items.T, K, dim=1)


def top_candidates(model: TwoTowerModel, users: np.ndarray, n: int,
                   device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """(B, n) relevance scores and item indices of each user's best `n` items."""
    model.net_.to(device)
    items = torch.as_tensor(model.item_vectors_, device=device)
    scores, indices = [], []
    with torch.no_grad():
        for start in range(0, len(users), 4096):
            batch = users[start:start + 4096]
            vecs = model.net_.user_vectors(
                torch.as_tensor(model.train_histories_[batch], device=device),
                torch.as_tensor(batch, device=device), items)
            top = torch.topk(vecs @ items.T, n, dim=1)
            scores.append(top.values.float().cpu().numpy())
            indices.append(top.indices.cpu().numpy())
    return np.concatenate(scores).astype(np.float64), np.concatenate(indices).astype(np.int64)


def spread(values: list[str], n: int) -> list[str]:
    """`n` entries spaced evenly over `values` (all of them when there are fewer)."""
    if n >= len(values):
        return list(values)
    picks = np.linspace(0, len(values) - 1, n).round().astype(int)
    return [values[i] for i in picks]


def autocast_name(device: torch.device) -> str:
    if device.type != "cuda":
        return "none (float32)"
    return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"


def mean_tokens(tokenizer: Any, texts: list[str], max_length: int) -> float:
    lengths = [len(ids) for ids in tokenizer(texts[:500], truncation=True,
                                             max_length=max_length)["input_ids"]]
    return round(float(np.mean(lengths)), 1) if lengths else 0.0


def encoder_location(choice: str, texts: list[str], folder: Path,
                     tiny: bool = False) -> tuple[str, str]:
    """(model folder or name, description). auto: the bundled model when installed, else a
    stand-in built in `folder`."""
    if choice == "auto":
        try:
            from engine.text.encoders import bundled_model_path

            return bundled_model_path(), "bundled all-MiniLM-L6-v2"
        except ImportError as exc:
            cached = hub_cache_folder(HUB_NAME)
            if cached:
                return cached, f"{HUB_NAME} from the local Hugging Face cache"
            log(f"bundled encoder not installed ({exc}) nor {HUB_NAME} cached; using a "
                "stand-in of its architecture")
            choice = "stand-in"
    if choice == "stand-in":
        spec = TINY_BERT if tiny else MINILM
        folder.mkdir(parents=True, exist_ok=True)
        build_stand_in(folder, texts, spec)
        shape = "a tiny BERT (smoke)" if tiny else "BERT with all-MiniLM-L6-v2's shape"
        return str(folder), (f"stand-in: {shape} ({spec['num_hidden_layers']} layers, "
                             f"{spec['hidden_size']} wide), random weights, WordPiece "
                             "vocabulary trained on the shop's text")
    return choice, f"{choice} (given with --encoder)"


def hub_cache_folder(name: str) -> str | None:
    """The snapshot folder of `name` in the local Hugging Face cache, if it is there."""
    try:
        from huggingface_hub import try_to_load_from_cache

        found = [try_to_load_from_cache(name, file) for file in ("config.json",
                                                                 "model.safetensors")]
    except Exception:  # any failure means "not cached"
        return None
    if all(isinstance(path, str) for path in found):
        return str(Path(found[0]).parent)
    return None


def build_stand_in(folder: Path, texts: list[str], spec: dict[str, int]) -> None:
    """A random-weight BERT of `spec`'s shape and a WordPiece tokenizer trained on `texts`,
    saved with save_pretrained so `TextEncoder` loads it like any model folder."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import WordPieceTrainer
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(texts, WordPieceTrainer(vocab_size=spec["vocab_size"],
                                                    special_tokens=special))
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)])
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]",
                                      pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
                                      mask_token="[MASK]", model_max_length=512)
    wrapped.save_pretrained(str(folder))
    torch.manual_seed(SEED)
    config = BertConfig(**{**spec, "vocab_size": max(tok.get_vocab_size(), 8)})
    BertModel(config).save_pretrained(str(folder))


# ---- the run ------------------------------------------------------------------------------
def environment(device: torch.device) -> dict[str, Any]:
    info: dict[str, Any] = {
        "torch": torch.__version__, "cuda": torch.version.cuda,
        "python": platform.python_version(), "machine": platform.machine(),
        "cpu_count": os.cpu_count(), "cpu_threads": torch.get_num_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()]}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(card=torch.cuda.get_device_name(device),
                    card_memory_gib=round(props.total_memory / 2**30, 1),
                    multiprocessors=props.multi_processor_count,
                    bf16=torch.cuda.is_bf16_supported())
    else:
        info["card"] = "none (CPU only)"
    return info


def speedup_rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per comparison: CPU seconds, device seconds, speedup."""
    stages = results.get("stages", {})
    rows: list[dict[str, Any]] = []

    def add(what: str, cpu: Any, device: Any, unit: str, note: str = "") -> None:
        rows.append({"what": what, "cpu_seconds": cpu, "device_seconds": device, "unit": unit,
                     "speedup": ratio(cpu, device), "note": note})

    train = stages.get("train", {})
    dev = train.get("cuda") or train.get("device")
    if dev and train.get("cpu"):
        add("train two-tower (full softmax)", train["cpu"]["epoch_train_seconds"],
            dev["epoch_train_seconds"], "s / epoch",
            "CPU extrapolated from a capped run" if train["cpu"]["extrapolated"] else "")
    score = stages.get("score", {})
    dev = score.get("cuda") or score.get("device")
    if dev and score.get("cpu"):
        add("rank_users, full catalogue", score["cpu"]["rank_users_seconds"],
            dev["rank_users_seconds"], f"s / {score['users']:,} users",
            "masking and top-k on the model's device")
        add("bound: user tower + matmul + topk", score["cpu"]["bound_seconds"],
            dev["bound_seconds"], f"s / {score['users']:,} users")
    rerank = stages.get("rerank", {})
    for method in RERANK_METHODS:
        if method in rerank:
            row = rerank[method]
            add(f"rerank_batch {method}", row["cpu_seconds"], row["device_seconds"],
                f"s / {row['users']:,} users",
                f"top {rerank['candidates']} → {rerank['k']}; CPU side: numpy")
    encode = stages.get("encode", {})
    if "cpu" in encode:
        n = encode["texts"]
        for key, label in (("device", "batch 64"), ("device_batch256", "batch 256")):
            if key in encode:
                add(f"encode item text ({label} on device)",
                    encode["cpu"]["extrapolated_seconds_for_all_texts"],
                    encode[key]["seconds"], f"s / {n:,} texts",
                    f"CPU (batch 64) measured on {encode['cpu_texts']} texts, extrapolated "
                    "per text")
    return rows


def fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.1f}"
    return str(value)


def render(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = ["# GPU check" + (" (smoke run, tiny sizes: not a measurement)"
                              if results["smoke"] else ""), "",
             f"Command: `{results['command']}`  ",
             f"Card: {env.get('card')}, torch {env['torch']}, CUDA {env['cuda']}, "
             f"Python {env['python']}, {env['cpu_count']} CPU cores "
             f"({env['cpu_threads']} torch threads).  ",
             f"Data: synthetic shop, {results['sizes']['items']:,} items × "
             f"{results['sizes']['users']:,} users (seed {SEED}); total "
             f"{results.get('total_seconds', '…')} s.", "",
             "| what | CPU (s) | device (s) | per | speedup | note |",
             "|---|---|---|---|---|---|"]
    for row in results["speedups"]:
        speed = "–" if row["speedup"] is None else f"{row['speedup']:.2f}×"
        lines.append(f"| {row['what']} | {fmt(row['cpu_seconds'])} | "
                     f"{fmt(row['device_seconds'])} | {row['unit']} | {speed} | {row['note']} |")
    stages = results["stages"]
    train = stages.get("train", {})
    dev = train.get("cuda") or train.get("device")
    notes = ["", "Notes:", ""]
    if dev and dev.get("epochs"):
        per = ", ".join(f"{e['train_seconds']:.1f} s train + {e['validation_seconds']:.1f} s "
                        "validation" for e in dev["epochs"])
        notes.append(f"- Device epochs as run: {per}. Training seconds per epoch = median "
                     "steady seconds per batch × batches per epoch; validation (score all "
                     "validation users, top-k per block) is not in the training column.")
    if "encode" in stages and "encoder" in stages["encode"]:
        enc = stages["encode"]
        notes.append(f"- Encoder: {enc['encoder']}; mean {enc.get('mean_tokens')} tokens per "
                     f"text; device autocast {enc.get('device', {}).get('autocast')}.")
    if "data" in stages and "text_features" in stages["data"]:
        notes.append(f"- Training text features: {stages['data']['text_features']}.")
    if "score" in stages and "model" in stages["score"]:
        notes.append(f"- Scoring and re-ranking use the model {stages['score']['model']}.")
    for stage, error in results["errors"].items():
        notes.append(f"- Stage `{stage}` did not finish: {error}")
    return "\n".join(lines + notes) + "\n"


def write(results: dict[str, Any], folders: list[Path]) -> None:
    results["speedups"] = speedup_rows(results)
    text_json = json.dumps(results, indent=2, default=str) + "\n"
    text_md = render(results)
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{NAME}.json").write_text(text_json)
        (folder / f"{NAME}.md").write_text(text_md)


def print_table(results: dict[str, Any]) -> None:
    print(f"\n{'what':44} {'CPU s':>10} {'device s':>10} {'speedup':>9}  per")
    for row in results["speedups"]:
        speed = "–" if row["speedup"] is None else f"{row['speedup']:.2f}x"
        print(f"{row['what'][:44]:44} {fmt(row['cpu_seconds']):>10} "
              f"{fmt(row['device_seconds']):>10} {speed:>9}  {row['unit']}")
    for stage, error in results["errors"].items():
        print(f"stage {stage}: {error}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"),
                        help="the accelerated side (cpu: same code path, for the smoke)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for gpu.json and gpu.md (default docs/benchmarks; "
                             "with --smoke a temporary folder)")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--deadline", type=float, default=420.0,
                        help="seconds for the whole run; stage limits shrink to fit")
    parser.add_argument("--encoder", default="auto",
                        help="auto | stand-in | a model folder (default: the bundled model, "
                             "else a stand-in of its shape)")
    parser.add_argument("--items", type=int)
    parser.add_argument("--users", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--score-users", type=int, help="0: every test user")
    parser.add_argument("--encode-texts", type=int)
    parser.add_argument("--cpu-encode-texts", type=int)
    return parser.parse_args(argv)


def stage_budget(sizes: dict[str, Any], name: str, deadline: float, later: int,
                 ) -> float | None:
    """Seconds a stage may run (shrunk so the later stages keep 10 s each); None: no limit."""
    if sizes["budgets"] is None:
        return None
    return min(sizes["budgets"][name], deadline - time.perf_counter() - 10 * later - 5)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    deadline = started + args.deadline
    sizes = {key: (value.copy() if isinstance(value, dict) else value)
             for key, value in (SMOKE if args.smoke else FULL).items()}
    for key in ("items", "users", "epochs", "score_users", "encode_texts", "cpu_encode_texts"):
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"no CUDA device visible to torch {torch.__version__}; use --device cpu",
              file=sys.stderr)
        return 2
    names = [name for name in args.stages.split(",") if name]
    unknown = sorted(set(names) - set(STAGES))
    if unknown:
        print(f"unknown stage(s) {unknown}; choose from {', '.join(STAGES)}", file=sys.stderr)
        return 2
    out_dir = args.out or (Path(tempfile.gettempdir()) / "prism-gpu-check-smoke" if args.smoke
                           else OUT_DIR)
    folders = [out_dir] + ([Path(os.environ["OUT"])] if os.environ.get("OUT") else [])
    check = Check(args, sizes)
    results: dict[str, Any] = {
        "command": "python bench/gpu_check.py " + " ".join(argv if argv is not None
                                                           else sys.argv[1:]),
        "smoke": args.smoke, "device": args.device, "environment": environment(check.device),
        "sizes": {k: v for k, v in sizes.items() if k != "budgets"}, "stages": {},
        "errors": {}, "budgets": {}, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    env = results["environment"]
    log(f"card {env['card']}, torch {env['torch']}, CUDA {env['cuda']}, "
        f"{env['cpu_threads']} CPU threads; sizes {results['sizes']}")
    for index, name in enumerate(names):
        budget = stage_budget(sizes, name, deadline, later=len(names) - index - 1)
        results["budgets"][name] = None if budget is None else round(budget, 1)
        if name != "data" and check.data is None:
            results["errors"][name] = "skipped: no data (the data stage failed)"
            continue
        if budget is not None and budget < 5:
            results["errors"][name] = "skipped: out of time"
            log(f"{name}: skipped, out of time")
            continue
        log(f"{name}: start" + ("" if budget is None else f" (limit {budget:.0f} s)"))
        stage_started = time.perf_counter()
        try:
            with contextlib.nullcontext() if budget is None else time_limit(budget):
                out = results["stages"][name] = {}  # kept, as far as it got, on failure
                getattr(check, f"stage_{name}")(
                    out, float("inf") if budget is None else stage_started + budget)
        except (Exception, StageTimeout) as exc:
            message = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
            results["errors"][name] = message
            log(f"{name}: FAILED {message}")
            if not isinstance(exc, StageTimeout):
                traceback.print_exc(limit=4)
        else:
            log(f"{name}: done in {time.perf_counter() - stage_started:.1f} s")
        results["total_seconds"] = round(time.perf_counter() - started, 1)
        write(results, folders)
    if not names:
        write(results, folders)
    print_table(results)
    print(f"\nwrote {', '.join(str(f / (NAME + '.json')) for f in folders)} (and .md)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
