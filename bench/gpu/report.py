"""GPU check: the results file (gpu.json), its Markdown table (gpu.md) and the printed table."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import torch

from bench.gpu.stages import RERANK_METHODS, SEED
from bench.gpu.timing import ratio
from engine.core.files import write_text_atomic

NAME = "gpu"


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
        write_text_atomic(folder / f"{NAME}.json", text_json)
        write_text_atomic(folder / f"{NAME}.md", text_md)


def print_table(results: dict[str, Any]) -> None:
    print(f"\n{'what':44} {'CPU s':>10} {'device s':>10} {'speedup':>9}  per")
    for row in results["speedups"]:
        speed = "–" if row["speedup"] is None else f"{row['speedup']:.2f}x"
        print(f"{row['what'][:44]:44} {fmt(row['cpu_seconds']):>10} "
              f"{fmt(row['device_seconds']):>10} {speed:>9}  {row['unit']}")
    for stage, error in results["errors"].items():
        print(f"stage {stage}: {error}")
