"""GPU check: the stages (data, train, score, rerank, encode), each timing the engine's own
code on the accelerated device and on the CPU."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.common import SWEEP
from bench.gpu.encoders import autocast_name, encoder_location, mean_tokens, spread
from bench.gpu.timing import BatchClock, ratio, timed
from engine.core.config import EncoderConfig, ModelConfig, TrainConfig
from engine.data import build_dataset, generate_shop
from engine.evaluation.protocol import calibration_targets, rank_users
from engine.models.base import TrainData
from engine.models.network import TwoTowerNet
from engine.models.twotower import STATE_FORMAT, TwoTowerModel
from engine.runs.data import prepare_data

STAGES = ("data", "train", "score", "rerank", "encode")
RERANK_METHODS = SWEEP  # the engine's, as every benchmark reads them
K = 10
SEED = 0  # the shop, the split and the model
TEXT_DIM = 384  # width of the default encoder (all-MiniLM-L6-v2)


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
        from engine.models.examples import pad_histories

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
