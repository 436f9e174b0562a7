"""Assemble docs/benchmarks.md from the per-topic results each benchmark writes.

Every number in docs/benchmarks.md comes from a JSON file in docs/benchmarks/ written by the
script named beside it; this file only gathers them, so rerunning one benchmark and then
`python -m bench.report` refreshes the page.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bench.common import OUT_DIR, REPO, write_atomic

DOCS = REPO / "docs"
PARTS = OUT_DIR
SECTIONS = (  # (file stem, benchmark script)
    ("quality", "bench/quality/quality.py"),
    ("twotower", "bench/quality/quality.py"),
    ("tradeoff", "bench/quality/tradeoff.py"),
    ("frontier", "bench/quality/frontier.py"),  # carries frontier_alpha.md's conditioned family
    ("conditioned_fit", "bench/speed/conditioned_fit.py"),
    ("alpha_latency", "bench/speed/alpha_latency.py"),
    ("defaults", "bench/quality/defaults.py"),
    ("schedule", "bench/quality/schedule.py"),
    ("rerank", "bench/speed/rerank.py"),
    ("serving", "bench/speed/serve_latency.py, bench/speed/load.py"),
    ("policy_preview", "bench/speed/policy_preview.py"),
    ("dashboard", "bench/studio/dashboard_speed.py"),
    ("browser", "bench/studio/browser_speed.py"),
    ("browser_1m", "bench/studio/browser_speed.py"),
    ("scoring", "bench/speed/scoring.py"),
    ("quantize", "bench/scale/quantize.py"),
    ("large", "bench/scale/large_catalogue.py"),
    ("ann_serving", "bench/scale/ann_serving.py"),
    ("studio_open", "bench/scale/studio_open.py"),
    ("ask", "bench/quality/ask_quality.py"),
    ("explain_faithfulness", "bench/quality/explain_faithfulness.py"),
    ("buy_again", "bench/quality/buy_again.py"),
    ("privacy", "bench/quality/privacy.py"),
    ("events", "bench/speed/events.py"),
    ("refresh", "bench/speed/refresh.py"),
    ("experiments", "bench/quality/experiments.py"),
    ("request_probe", "bench/speed/request_probe.py"),
    ("gpu", "bench/gpu/check.sh"),
)


def _load(stem: str) -> dict[str, Any] | None:
    path = PARTS / f"{stem}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _quality_rows(dataset: str) -> list[str]:
    data = _load("quality") or {}
    rows = [r for r in data.get("rows", []) if r.get("dataset") == dataset
            and r.get("alpha") in (None, 0, 0.0) and r.get("seed") in (None, 2020)]
    return [f"{r['model']} NDCG@10 {r['metrics']['ndcg@10']:.4f}" for r in rows]


def _frontier_lines() -> list[str]:
    """Joint loss against re-ranking alone at the first equal-entropy target and at 1.33 (the
    +30% point on Amazon-Scientific) when measured, per data set."""
    lines = []
    for row in (_load("frontier") or {}).get("datasets", []):
        comparison = row["comparison"]
        seeds = len(row.get("seeds", [0]))
        for index, diff in enumerate(comparison["difference"]):
            if diff["at"] == "area" or (index and diff["at"] != 1.33):
                continue
            call = ("joint loss wins" if diff["win"] else "re-ranking wins" if diff["loss"]
                    else "tie")
            rerank = comparison["families"]["re-rank alone"][index]
            joint = comparison["families"]["joint loss"][index]
            lines.append(f"- {row['dataset']}, training-time diversity against re-ranking at "
                         f"equal entropy {diff['at']:.3f}: {call}, NDCG@10 {joint:.4f} against "
                         f"{rerank:.4f}, joint − re-rank {diff['joint_minus_rerank']:+.4f} "
                         f"[{diff['low']:+.4f}, {diff['high']:+.4f}] ({seeds} training seeds)")
    return lines


def headlines() -> list[str]:
    """One line per measured headline, skipping benchmarks that have not been run."""
    lines = []
    for dataset in ("ml-100k", "amazon-scientific"):
        rows = _quality_rows(dataset)
        if rows:
            lines.append(f"- {dataset}: " + "; ".join(rows))
    lines += _frontier_lines()
    conditioned = _load("frontier_alpha")
    if conditioned:
        from bench.quality.frontier_alpha import verdict  # the page's own verdict rule

        lines += [f"- {row['dataset']}, one model trained over α ∈ [0, 1]: {verdict(row)}; "
                  f"fit {row['fit_ratio']:.2f}× one fixed-α fit" for row in conditioned["datasets"]]
    rerank = _load("rerank")
    if rerank:
        one = rerank["one_list"]["500"]
        lines.append("- re-ranking one list, N=500 → k=20 (median ms): "
                     + ", ".join(f"{m} {v:.2f}" for m, v in one.items()))
    dashboard = _load("dashboard")
    if dashboard:
        medians = {m: v["median_ms"] for m, v in dashboard["explorer"]["methods"].items()}
        lines.append("- Explorer slider re-render (median ms): "
                     + ", ".join(f"{m} {v:.0f}" for m, v in medians.items())
                     + f"; Trade-off sweep over {dashboard['tradeoff']['n_shoppers']} shoppers "
                     f"{dashboard['tradeoff']['sweep_first_s']:.2f} s first time")
    for browser in (_load("browser"), _load("browser_1m")):
        rows = browser["runs"] if browser else []
        lines += [f"- Explorer in Chromium, {row['run']} ({row['n_items']:,} items): "
                  f"{row['slider_kind']} slider → new list median "
                  f"{row['slider']['median_ms']:.0f} ms, "
                  f"{row['slider']['median_ms'] / row['floor']['median_ms']:.2f}× a bare "
                  f"Streamlit app ({row['floor']['median_ms']:.0f} ms, same run)"
                  for row in rows if "floor" in row]
    refresh = _load("refresh")
    if refresh:
        lines.append("- `prism refresh` against a full fit (two-tower, same process): " + "; ".join(
            f"{row['dataset']} {row['refresh_over_full_fit']:.3f}× "
            f"({row['refresh']['refresh_seconds']:.1f} s against {row['full_fit_seconds']:.1f} s)"
            for row in refresh["datasets"]))
    serving = _load("serving")
    if serving and "load" in serving:
        load = serving["load"]
        lines.append(f"- API load: {load['requests']} requests, {load['errors']} errors")
    if serving and "load_events" in serving:
        lines.append(_events_headline(serving["load_events"]))
    return lines


def _events_headline(load: dict[str, Any]) -> str:
    """One line: lists and events mixed, one worker, the ratio for more, events lost."""
    more = "".join(f"; {n} workers {row['throughput_over_first']:.2f}× the throughput"
                   + (f" (server CPU {row['server_cpu_ms_per_request']:.2f} against "
                      f"{load['server_cpu_ms_per_request']:.2f} ms per request, "
                      f"{row['cores_busy']} against {load['cores_busy']} cores busy)"
                      if "cores_busy" in row else "")
                   for n, row in (load.get("more_workers") or {}).items())
    return (f"- API, /recommend and /events mixed, {load['clients']} clients, one worker: "
            f"{load['throughput_rps']:.0f} req/s, p50 {load['p50_ms']:.0f} ms, p99 "
            f"{load['p99_ms']:.0f} ms at load average {load['machine']['load_average_1min']}"
            f"{more}; {load.get('lost_events', '?')} events lost")


def _demote(markdown: str) -> str:
    """Shift headings one level down so each part sits under its own section."""
    return "\n".join("#" + line if line.startswith("#") else line
                     for line in markdown.splitlines())


def build() -> str:
    parts = ["# Benchmarks", "",
             "Measured on this project's 2-core CPU machine unless a section says otherwise. "
             "Each section is written by the script named in it; regenerate this page with "
             "`python -m bench.report`.", "", "## Headlines", "", *headlines(), ""]
    for stem, script in SECTIONS:
        path = PARTS / f"{stem}.md"
        if path.exists():
            parts += [_demote(path.read_text().strip()), "",
                      f"_Source: `docs/benchmarks/{stem}.md`, written by `{script}`._", ""]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        description="Rewrite docs/benchmarks.md from the JSON and Markdown each benchmark "
                    "wrote under docs/benchmarks/; measures nothing.").parse_args(argv)
    target = DOCS / "benchmarks.md"
    write_atomic(target, build())
    print(f"wrote {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()
