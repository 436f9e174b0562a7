"""The Markdown report of bench/scale/ann_serving.py: per part, the index kinds, which one
serves and why (from the measured figures), the served lists and `/recommend`."""

from __future__ import annotations

from bench.common import machine_line

KINDS = ("ivf-sq8", "ivf", "hnsw")
RECALL_GOAL = 0.95  # recall@100 of the candidates against exact scoring


def render(results: dict) -> str:
    lines = ["# Serving through the candidate index", "",
             f"{machine_line(results['machine'])}"
             f", shared with other work (load average at the end of each "
             "part below: timings are noisy, compare the ratios). Lists: DPP at weight 0.3 "
             "over 500 candidates, k = 10; the index gives 1000 candidates per shopper, "
             "re-scored exactly. Written by `bench/scale/ann_serving.py`.", ""]
    for key, part in results["parts"].items():
        if "skipped" in part or "error" in part:
            lines += [f"## {key}", "", f"Not measured: {part.get('skipped', part.get('error'))}",
                      ""]
            continue
        lines += [f"## {part['dataset']}", "", f"Command: `{part['command']}` (load average "
                  f"{part.get('load_average') or 'not recorded'}).", "",
                  f"{part['items']:,} items, {part['shoppers']:,} shoppers; two-tower trained "
                  f"{part['epochs']} epoch(s) in {part['fit_seconds']} s.", "",
                  "| index | build s | MiB | setting | recall@100 (tuning) | recall@100 "
                  "(held-out) | search ms/shopper |", "|---|---|---|---|---|---|---|"]
        for kind in KINDS:
            row = part["kinds"].get(kind)
            if row:
                lines.append(f"| {kind} | {row['build_seconds']} | {row['index_mib']} | "
                             f"{row['setting']} | {row['recall_at_100_tuning']} | "
                             f"{row['recall_at_100_heldout']} | {row['search_ms_per_shopper']} |")
        lines += choice_lines(part)
        exact_ms = part["kinds"].get("exact_top100_ms_per_shopper")
        lines += ["", f"Exact top-100: {exact_ms} ms per shopper." if exact_ms else
                  "Exact top-100 not timed in this part.", ""]
        lines += render_serving(part)
        if part.get("note"):
            lines += ["", f"Note: {part['note']}"]
        lines.append("")
    return "\n".join(lines) + "\n"


def render_serving(part: dict) -> list[str]:
    """The lists and /recommend tables of a part, as far as it got."""
    if "lists" not in part:
        return []
    lines = ["| lists | NDCG@10 [95% interval] | entropy@10 [95% interval] |", "|---|---|---|"]
    q = part["lists"]
    for name in ("index", "exact"):
        n, e = q[f"ndcg@10 {name}"], q[f"entropy@10 {name}"]
        lines.append(f"| {name} | {n['mean']} [{n['low']}, {n['high']}] | {e['mean']} "
                     f"[{e['low']}, {e['high']}] |")
    lines += ["", f"{q['shoppers']} held-out shoppers; share of the same items in both "
              f"lists: {q['same_items_share']}."]
    if "recommend" not in part:
        return lines
    lines += ["", "| /recommend | p50 ms | p99 ms | CPU p50 ms | CPU p99 ms | load s | "
              "memory GB after load | after requests | peak |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, row in part["recommend"].items():
        if "p50_ms" in row:
            lines.append(f"| {name} ({row['retrieval']}) | {row['p50_ms']} | {row['p99_ms']} "
                         f"| {row.get('p50_cpu_ms', '—')} | {row.get('p99_cpu_ms', '—')} | "
                         f"{row['load_seconds']} | {row.get('rss_after_load_gb', '—')} | "
                         f"{row.get('rss_gb', '—')} | {row['peak_rss_gb']} |")
        else:
            lines.append(f"| {name} | failed: {row.get('error')} | | | | | | | |")
    if "recommend_timed" in part:
        timed = part["recommend_timed"]
        how = ("one after the other, each process with the machine to itself"
               if timed.get("apart") else "both processes at once, each slowed by the other")
        lines += ["", f"/recommend timed again on the kept run folder: `{timed['command']}` "
                      f"({how}; load average {timed['load_average']})."]
    if "ratios" in part:
        r = part["ratios"]
        cpu = (f", CPU p50 ×{r['p50_cpu_ms']}, CPU p99 ×{r['p99_cpu_ms']}"
               if "p50_cpu_ms" in r else "")
        lines += ["", f"Index / exact: p50 ×{r['p50_ms']}, p99 ×{r['p99_ms']}{cpu}, memory "
                  f"×{r['peak_rss_gb']}, load ×{r['load_seconds']}. Served index build: "
                  f"{part['served_index']['build_seconds']} s."]
    return lines


def choice_lines(part: dict) -> list[str]:
    """Which kind serves, and how the measured kinds compare (the words follow the figures)."""
    rows = {kind: part["kinds"][kind] for kind in KINDS if kind in part["kinds"]}
    served = part.get("served_index", {}).get("kind")
    if len(rows) < 2 or served not in rows:
        return []
    good = [k for k, r in rows.items() if r["recall_at_100_heldout"] >= RECALL_GOAL]
    smallest = min(rows, key=lambda k: rows[k]["index_mib"])
    fastest = min(rows, key=lambda k: rows[k]["search_ms_per_shopper"])
    quickest = min(rows, key=lambda k: rows[k]["build_seconds"])
    mine = rows[served]
    lines = [f"Chosen: {served} serves (the run's default index). Of the kinds measured, "
             f"{', '.join(good) or 'none'} reach held-out recall@100 ≥ {RECALL_GOAL}; smallest "
             f"index: {smallest}; fastest search: {fastest}; quickest build: {quickest}."]
    for kind, row in rows.items():
        if kind != served:
            lines.append(f"{kind} against {served}: index ×{_ratio(row, mine, 'index_mib')}, "
                         f"search ×{_ratio(row, mine, 'search_ms_per_shopper')}, build "
                         f"×{_ratio(row, mine, 'build_seconds')}, recall "
                         f"{row['recall_at_100_heldout']} vs {mine['recall_at_100_heldout']}.")
    return ["", " ".join(lines)]


def _ratio(row: dict, base: dict, key: str) -> float:
    return round(row[key] / max(base[key], 1e-9), 2)
