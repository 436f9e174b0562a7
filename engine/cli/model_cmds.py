"""`prism train` and `prism evaluate`: fit a model into a run folder, evaluate a run on data."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

from engine.cli.quota_option import (
    add_quotas_option,
    check_quota_method,
    parse_quotas_option,
    quota_indices,
)
from engine.core.errors import ConfigError, DataError
from engine.core.files import write_json_atomic
from engine.rerank.methods import METHODS

MODEL_CHOICES = "auto|twotower|pop|itemknn|ease"
SPLITS = ("leave-last-out", "random")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train` and `evaluate` to the `prism` parser."""
    train = subparsers.add_parser("train", help="fit a model on a dataset into a run folder")
    train.add_argument("--data", required=True, help="dataset folder")
    train.add_argument("--out", required=True, help="run folder to write (replaced atomically)")
    train.add_argument("--model", default="auto", help=f"one of {MODEL_CHOICES} (auto: fit a "
                       "few candidates, keep the best on the validation part; see "
                       "engine/training/selection.py)")
    train.add_argument("--alpha", default="0.0", help="weight of the diversity loss L_d (>= 0)")
    train.add_argument("--beta", default="1.0", help="weight of the relevance loss L_r (>= 0)")
    train.add_argument("--epochs", default=None, help="maximum training epochs (two-tower)")
    train.add_argument("--encoder", default="", help="text model name or folder "
                       "(default: bundled all-MiniLM-L6-v2)")
    _add_data_options(train)
    train.add_argument("--seed", default="0", help="random seed for the split and training")
    train.add_argument("--device", default="auto", help="auto|cpu|cuda")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--tensorboard", default=None, metavar="DIR",
                       help="two-tower: also write each epoch's losses and validation metrics "
                            "as TensorBoard event files into DIR (needs the tensorboard extra: "
                            "pip install -e '.[tensorboard]')")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="two-tower setting from ModelConfig/TrainConfig, repeatable "
                            "(e.g. --set dim=128 --set use_text=false)")
    train.add_argument("--tune", default=None, metavar="N",
                       help="search the two-tower's settings with N trials (Optuna: seeded TPE, "
                            "median pruning) on the validation part; the best then competes "
                            "with the other candidates as in --model auto (see "
                            "engine/training/tuning.py)")
    train.add_argument("--nproc", default="1",
                       help="two-tower: train with N local processes (DDP via torchrun; gloo "
                            "on CPU, NCCL on GPUs); several machines: see docs/scale.md")
    train.set_defaults(func=run_train, train_parser=train)

    evaluate = subparsers.add_parser("evaluate", help="evaluate a run folder on a dataset")
    evaluate.add_argument("--run", required=True, help="run folder written by prism train")
    evaluate.add_argument("--data", required=True, help="dataset folder")
    _add_data_options(evaluate, split_default=None)
    evaluate.add_argument("--k", default="10", help="list length K")
    evaluate.add_argument("--rerank", default="none", help="|".join(METHODS))
    add_diversity_weight_option(evaluate)
    add_target_mix_option(evaluate)
    add_quotas_option(evaluate)
    evaluate.add_argument("--json", required=True, help="where to write the evaluation JSON")
    evaluate.set_defaults(func=run_evaluate)


def _add_data_options(parser: argparse.ArgumentParser,
                      split_default: str | None = "leave-last-out") -> None:
    parser.add_argument("--split", default=split_default, help=" or ".join(SPLITS) + (
        "" if split_default else " (default: the run's own split)"))
    parser.add_argument("--format", default="auto", help="auto|generic|recbole|movielens")


def parse_number(value: str, option: str, kind: type = float) -> Any:
    """A number from the command line, or ConfigError naming the option."""
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{option} must be a{'n integer' if kind is int else ' number'}, "
                          f"got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConfigError(f"{option} must be a finite number, got {value!r}")
    return number


def add_diversity_weight_option(parser: argparse.ArgumentParser) -> None:
    """`--diversity-weight w` (the old `--weight` still works): the serve-time re-rank weight.

    Not the training loss weights `--alpha`/`--beta`: this one only re-orders a list.
    """
    parser.add_argument("--diversity-weight", dest="diversity_weight", default="0.0",
                        help="serve-time re-rank weight in [0, 1] (0 = relevance order)")
    parser.add_argument("--weight", dest="diversity_weight", default=argparse.SUPPRESS,
                        help=argparse.SUPPRESS)


def add_target_mix_option(parser: argparse.ArgumentParser) -> None:
    """`--target-mix γ`: the calibrated re-ranker's target (1 − γ)·history + γ·catalogue."""
    parser.add_argument("--target-mix", default="0.5",
                        help="calibrated only: share of the catalogue's category mix in the "
                             "target, in [0, 1] (0 = the shopper's own mix; default 0.5)")


def parse_target_mix(value: str) -> float:
    """--target-mix as a float in [0, 1], or ConfigError naming the option."""
    from engine.evaluation.protocol import check_target_mix

    return check_target_mix(parse_number(value, "--target-mix"), "--target-mix")


def _choice(value: str, option: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{option} must be one of {', '.join(choices)}, got {value!r}")
    return value


# On a random split the "next" item is not later in time: the two-tower learns from one
# multi-target example per shopper (all of their items, half of the input hidden by dropout),
# small batches, many short epochs (measured in docs/benchmarks.md, "Two-tower model: what
# was measured").
RANDOM_SPLIT_PRESET = {"example_history": "user", "history_len": 200, "lr": 0.003,
                       "batch_size": 64, "patience": 10}
RANDOM_SPLIT_MODEL_PRESET = {"dropout": 0.5}
RANDOM_SPLIT_EPOCHS = 200  # early stopping ends it; --epochs overrides


def _setting_value(text: str) -> Any:
    """`true`/`false`, an int, a float, or the text itself."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_settings(pairs: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """--set KEY=VALUE pairs split into ModelConfig and TrainConfig changes."""
    import dataclasses

    from engine.core.config import ModelConfig, TrainConfig

    model_keys = {f.name for f in dataclasses.fields(ModelConfig)}
    train_keys = {f.name for f in dataclasses.fields(TrainConfig)}
    model_changes: dict[str, Any] = {}
    train_changes: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or key not in model_keys | train_keys:
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE with KEY one of "
                              f"{', '.join(sorted(model_keys | train_keys))}")
        target = model_changes if key in model_keys else train_changes
        target[key] = _setting_value(value.strip())
    return model_changes, train_changes


def build_model(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The unfitted model named by --model and the configs to record in run.json."""
    from engine.core.config import TrainConfig
    from engine.models.registry import get_model_class

    changes: dict[str, Any] = {"alpha": parse_number(args.alpha, "--alpha"),
                               "beta": parse_number(args.beta, "--beta"),
                               "seed": parse_number(args.seed, "--seed", int),
                               "device": args.device}
    if args.epochs is not None:
        changes["epochs"] = parse_number(args.epochs, "--epochs", int)
    model_changes, train_changes = parse_settings(getattr(args, "set", []))
    user_set = frozenset(model_changes) | frozenset(train_changes)  # kept out of a search
    if getattr(args, "split", None) == "random":
        train_changes = {**RANDOM_SPLIT_PRESET, **train_changes}
        model_changes = {**RANDOM_SPLIT_MODEL_PRESET, **model_changes}
        if args.epochs is None:
            train_changes.setdefault("epochs", RANDOM_SPLIT_EPOCHS)
    try:
        train_config = TrainConfig(**changes)  # validates alpha/beta/epochs for every model
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("TrainConfig.", "--")) from None
    trials = _tune_trials(args)
    if args.model != "auto":
        model_class = get_model_class(args.model)
    if args.model not in ("twotower", "auto"):
        return model_class(), {"seed": train_config.seed}
    from engine.core.config import ModelConfig

    try:
        train_config = train_config.replace(**train_changes)
        model_config = ModelConfig(**model_changes)
    except TypeError as exc:  # e.g. --set dim=big: a text where a number belongs
        raise ConfigError(f"--set: a value has the wrong type ({exc})") from None
    configs = {"model_config": model_config.to_dict(), "train_config": train_config.to_dict()}
    if args.model == "auto" or trials:
        return AutoChoice(model_config, train_config,
                          args.model == "twotower" or _twotower_only(args), trials,
                          user_set), configs
    return model_class(model_config, train_config), configs


class AutoChoice(NamedTuple):
    """`--model auto` / `--tune N`: the two-tower's base settings, whether other families may
    compete, and the settings search's trial budget (0: no search)."""

    model_config: Any
    train_config: Any
    twotower_only: bool  # --alpha > 0 or --set (or --model twotower --tune)
    tune: int = 0
    fixed: frozenset[str] = frozenset()  # settings given with --set: not searched

    name = "auto"

    def select(self, data: Any, callbacks: list[Any], quiet: bool = False) -> Any:
        from engine.training.selection import Candidate, default_candidates, select_model

        if self.tune:
            return self._tuned(data, quiet)
        pair = (self.model_config, self.train_config)
        candidates = [Candidate("twotower", "twotower", model_config=pair[0],
                                train_config=pair[1])] if self.twotower_only \
            else default_candidates(data.n_items, pair)
        return select_model(data, candidates, callbacks=callbacks,
                            notify=lambda label: print(f"candidate: {label}", flush=True))


    def _tuned(self, data: Any, quiet: bool) -> Any:
        """The settings search with one progress bar over its trials."""
        from tqdm.auto import tqdm

        from engine.training.tuning import tuned_selection

        with tqdm(total=self.tune, desc="tuning", unit="trial", disable=quiet) as bar:
            def on_trial(done: int, total: int, record: dict[str, Any]) -> None:
                bar.set_postfix(last=record["value"] if record["value"] is not None
                                else "pruned")
                bar.update(1)

            return tuned_selection(data, self.model_config, self.train_config, self.tune,
                                   twotower_only=self.twotower_only, fixed=self.fixed,
                                   on_trial=on_trial)


def _tune_trials(args: argparse.Namespace) -> int:
    """--tune N as a trial count (0 when absent); only the two-tower has settings to search."""
    from engine.training.tuning import check_trials

    if getattr(args, "tune", None) is None:
        return 0
    trials = check_trials(args.tune)
    if args.model not in ("auto", "twotower"):
        raise ConfigError(f"--tune searches the two-tower's settings; --model {args.model} has "
                          "none to search: use --model auto or twotower, or drop --tune")
    if str(getattr(args, "nproc", "1")) != "1":
        raise ConfigError("--tune runs its trials in this process; drop --nproc (or --tune)")
    return trials


def _twotower_only(args: argparse.Namespace) -> bool:
    return parse_number(args.alpha, "--alpha") > 0 or bool(getattr(args, "set", []))


def _encoder_config(args: argparse.Namespace) -> Any:
    from engine.core.config import EncoderConfig
    from engine.text.encoders import resolve_model

    config = EncoderConfig(model_name_or_path=args.encoder, device=args.device)
    resolve_model(config.model_name_or_path)  # fail before loading any data
    return config


def run_train(args: argparse.Namespace) -> int:
    """Load, split, (encode), fit, evaluate on the test part, write the run folder.

    Under torchrun every rank loads and fits; only rank 0 evaluates, writes and prints.
    `--nproc N` re-launches this command through torchrun with N local processes.
    """
    from engine.evaluation.protocol import evaluate_model
    from engine.runs.store import save_run

    nproc = _check_nproc(args)
    _check_tensorboard(args)
    model, configs = build_model(args)
    _choice(args.device, "--device", ("auto", "cpu", "cuda"))
    protocol = _choice(args.split, "--split", SPLITS)
    encoder_config = _encoder_config(args) if args.model in ("twotower", "auto") else None
    seed = parse_number(args.seed, "--seed", int)
    if nproc > 1:
        return _relaunch(args, nproc)
    dataset, data, fit_seconds, model = _load_and_fit(args, model, encoder_config, protocol,
                                                      seed)
    if dataset is None:  # a rank other than 0: rank 0 evaluates and writes the run
        return 0
    if hasattr(model, "selection_"):
        configs = {**model.selection_.chosen.record(), "selection": model.selection_.meta()}
    evaluation = evaluate_model(model, data, protocol=protocol, fit_seconds=fit_seconds)
    meta = {"dataset": dataset.name, "data_path": str(Path(args.data).resolve()),
            "split": protocol, "seed": seed, "fit_seconds": round(fit_seconds, 3),
            "encoder": encoder_config.to_dict() if encoder_config else None,
            "data_config": dataset.config.to_dict(),
            "metrics": evaluation["metrics"], **configs}
    out = save_run(args.out, model=model, data=data, items=dataset.items, meta=meta,
                   epochs=getattr(model, "logs_", []), evaluation=evaluation)
    _search_vectors(out, quiet=args.quiet)
    chosen = f" (chosen on validation: {model.selection_.chosen.label})" \
        if hasattr(model, "selection_") else ""
    print(f"trained {model.name}{chosen} on {dataset.name} ({protocol}) in {fit_seconds:.1f}s: "
          f"{_summary(evaluation)} → {out}")
    return 0


def _search_vectors(out: Path, quiet: bool) -> None:
    """Encode the catalogue text once now, so the first search on the run starts warm."""
    from tqdm import tqdm

    from engine.core.errors import PrismError
    from engine.text.search import ensure_search_vectors

    with tqdm(desc="search vectors", unit="item", disable=quiet or None) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            ensure_search_vectors(out, progress=progress)
        except (PrismError, OSError) as exc:  # the run is saved; search encodes on first use
            print(f"note: search vectors not precomputed ({exc}); the first search encodes "
                  "the catalogue", file=sys.stderr)


def _load_and_fit(args: argparse.Namespace, model: Any, encoder_config: Any, protocol: str,
                  seed: int) -> tuple[Any, Any, float, Any]:
    """(dataset, data, fit seconds, fitted model); dataset is None on other torchrun ranks.

    With `--model auto` the fitted model is the selection's winner (its `selection_` says
    what each candidate scored); the fit seconds count every candidate.

    Inside a torchrun job each machine's local rank 0 encodes first (filling the encoder's
    disk cache) while its other ranks wait, then read the cache.
    """
    from engine.data import load_dataset
    from engine.evaluation.protocol import prepare_data
    from engine.models import distributed
    from engine.text.encoders import encode_items

    with distributed.process_group(args.device):
        main = distributed.is_main()
        dataset = load_dataset(args.data, fmt=args.format)
        text = distributed.local_main_first(lambda: encode_items(
            dataset, encoder_config, progress=main and not args.quiet)) \
            if encoder_config is not None else None
        _, data = prepare_data(dataset, protocol, seed=seed, text_embeddings=text)
        started = time.perf_counter()
        callbacks = _callbacks(args) if main else []
        if isinstance(model, AutoChoice):
            selection = model.select(data, callbacks, quiet=args.quiet)
            model = selection.model
            model.selection_ = selection
        else:
            model.fit(data, callbacks=callbacks)
        fit_seconds = time.perf_counter() - started
    return (dataset if main else None), data, fit_seconds, model


def _check_nproc(args: argparse.Namespace) -> int:
    """--nproc as a positive integer; distributed training is for the two-tower only."""
    from engine.models import distributed

    nproc = parse_number(getattr(args, "nproc", "1"), "--nproc", int)
    if nproc < 1:
        raise ConfigError(f"--nproc must be >= 1, got {nproc}")
    under_torchrun = distributed.launched_by_torchrun()
    if (nproc > 1 or under_torchrun) and args.model == "auto":
        args.model = "twotower"  # distributed training is the two-tower's: no selection
    if nproc > 1 and under_torchrun:
        raise ConfigError("--nproc cannot be combined with torchrun: torchrun's "
                          "--nproc-per-node already sets the number of processes; drop --nproc.")
    if (nproc > 1 or under_torchrun) and args.model != "twotower":
        raise ConfigError(f"distributed training (--nproc, torchrun) applies to the two-tower "
                          f"model only, not {args.model!r}; use --model twotower or drop it.")
    return nproc


def _relaunch(args: argparse.Namespace, nproc: int) -> int:
    """Run this `prism train` as `nproc` processes through torch.distributed.run."""
    from engine.core.errors import RunError
    from engine.models import distributed

    if not Path(args.data).exists():
        raise DataError(f"--data {args.data}: no such file or folder; check the path.")
    code = distributed.launch(nproc, _forwarded_argv(args))
    if code != 0:
        raise RunError(f"distributed training with {nproc} processes failed (exit status "
                       f"{code}); the first error above says why.")
    return 0


def _forwarded_argv(args: argparse.Namespace) -> list[str]:
    """`train` plus every option the user gave, except --nproc, as `--name=value` items."""
    argv = ["train"]
    for action in args.train_parser._actions:
        if not action.option_strings or action.dest in ("help", "nproc"):
            continue
        value, flag = getattr(args, action.dest, None), action.option_strings[-1]
        if action.nargs == 0:  # a store_true switch
            argv += [flag] if value else []
        elif isinstance(value, list):
            argv += [f"{flag}={item}" for item in value]
        elif value is not None:
            argv.append(f"{flag}={value}")
    return argv


def _check_tensorboard(args: argparse.Namespace) -> None:
    """--tensorboard is for the two-tower (the only model with epochs) and needs the package."""
    import importlib.util

    if getattr(args, "tensorboard", None) is None:
        return
    if args.model not in ("twotower", "auto"):
        raise ConfigError(f"--tensorboard logs training epochs, which only the two-tower model "
                          f"has, not {args.model!r}; drop --tensorboard or use --model twotower")
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install -e "
                          "'.[tensorboard]' (or pip install tensorboard), then run again")


def _callbacks(args: argparse.Namespace) -> list[Any]:
    if args.model not in ("twotower", "auto"):
        return []
    from engine.models.callbacks import ProgressBar, tensorboard_logger

    callbacks: list[Any] = [] if args.quiet else [ProgressBar()]
    if getattr(args, "tensorboard", None):
        callbacks.append(tensorboard_logger(args.tensorboard))
    return callbacks


def _summary(evaluation: dict[str, Any]) -> str:
    metrics = evaluation["metrics"]
    shown = [name for name in metrics if name.split("@")[0] in ("ndcg", "hit", "category_entropy")]
    return ", ".join(f"{name} {metrics[name]:.4f}" for name in shown)


def run_evaluate(args: argparse.Namespace) -> int:
    """Evaluate a saved run on the dataset's split (the run's own split unless --split)."""
    from engine.data import load_dataset
    from engine.evaluation.protocol import RerankSpec, evaluate_model, prepare_data
    from engine.runs.store import load_run, write_evaluation

    k = parse_number(args.k, "--k", int)
    target_mix = parse_target_mix(args.target_mix)
    named_quotas = parse_quotas_option(args.quotas)
    check_quota_method(args.rerank, named_quotas, "--rerank")
    if named_quotas and args.rerank == "none":
        raise ConfigError("--quotas applies to a re-ranked list: add --rerank quota (or mmr, "
                          "dpp, calibrated with quotas as constraints)")
    weight = parse_number(args.diversity_weight, "--diversity-weight")
    run = load_run(args.run)
    rerank = None if args.rerank == "none" else RerankSpec(
        args.rerank, weight, target_mix=target_mix,
        quotas=quota_indices(named_quotas, run.category_names))
    protocol = _choice(args.split or run.meta.get("split", "leave-last-out"), "--split", SPLITS)
    dataset = load_dataset(args.data, fmt=args.format)
    _, data = prepare_data(dataset, protocol, seed=int(run.meta.get("seed", 0)))
    if data.item_ids != run.item_ids:
        raise DataError(f"dataset {args.data} has {data.n_items} items but run {args.run} was "
                        f"trained on {len(run.item_ids)} different ones; evaluate on the data "
                        "the run was trained on, or retrain.")
    same_split = protocol == run.meta.get("split") and data.user_ids == run.user_ids
    if not same_split:
        print(f"prism: note: run {args.run} was trained on the {run.meta.get('split')} split; "
              f"scoring {protocol} from histories (known test items may have been trained on)",
              file=sys.stderr)
    evaluation = evaluate_model(run.model, data, k=k, rerank=rerank, protocol=protocol,
                                use_histories=not same_split,
                                fit_seconds=float(run.meta.get("fit_seconds", 0.0)))
    write_json_atomic(Path(args.json), evaluation)
    write_evaluation(run.path, evaluation)
    print(f"evaluated {run.model.name} on {dataset.name} ({protocol}, "
          f"{evaluation['n_users']} users): {_summary(evaluation)} → {args.json}")
    return 0

