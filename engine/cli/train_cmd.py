"""`prism train`: fit a model on a dataset into a run folder (also under torchrun).

The options become configs here; `engine.training.pipeline.train` does the work, the same
function the studio and the benchmarks call.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import Any

from engine.access.gate import Gate
from engine.access.roles import local_actor
from engine.cli.options import (
    DEVICES,
    add_data_options,
    alpha_setting,
    integer,
    model_name,
    number,
    positive_integer,
    trial_count,
)
from engine.cli.progress import CliProgress, summary
from engine.core.config import DEFAULT_ALPHA, DEFAULT_ALPHA_RANGE, EncoderConfig
from engine.core.errors import ConfigError, DataError, RunError
from engine.models.callbacks import ProgressBar, tensorboard_logger
from engine.models.registry import CONFIGURED_MODEL, get_model_class
from engine.text.encoders import resolve_model
from engine.training.options import train_spec
from engine.training.spec import AUTO, TrainSpec


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train` to the `prism` parser."""
    train = subparsers.add_parser("train", help="fit a model on a dataset into a run folder")
    train.add_argument("--data", required=True, help="dataset folder")
    train.add_argument("--out", required=True, help="run folder to write (replaced atomically)")
    train.add_argument("--model", default="auto", type=model_name,
                       help="auto, twotower, pop, itemknn or ease (auto: fit a few "
                            "candidates, keep the best on the validation part; see "
                            "engine/training/selection.py)")
    train.add_argument("--alpha", default=(DEFAULT_ALPHA, None), type=alpha_setting,
                       metavar="A|LOW:HIGH",
                       help=f"in training: weight of the diversity loss L_d (>= 0; default "
                            f"{DEFAULT_ALPHA:g}, Prism's default for one α); a range "
                            "LOW:HIGH (e.g. 0:1) trains one two-tower over every alpha in it, "
                            "chosen when serving (prism recommend --alpha); without --alpha, "
                            "--model auto also tries the two-tower over "
                            f"{DEFAULT_ALPHA_RANGE[0]:g}:{DEFAULT_ALPHA_RANGE[1]:g}")
    train.add_argument("--beta", default=1.0, type=number,
                       help="in training: weight of the relevance loss L_r (>= 0)")
    train.add_argument("--epochs", default=None, type=positive_integer,
                       help="maximum training epochs (two-tower)")
    train.add_argument("--encoder", default="", help="text model name or folder "
                       "(default: bundled all-MiniLM-L6-v2)")
    add_data_options(train)
    train.add_argument("--seed", default=0, type=integer,
                       help="random seed for the split and training")
    train.add_argument("--device", default="auto", choices=DEVICES, help="|".join(DEVICES))
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--tensorboard", default=None, metavar="DIR",
                       help="two-tower: also write each epoch's losses and validation metrics "
                            "as TensorBoard event files into DIR (needs the tensorboard extra: "
                            "pip install -e '.[tensorboard]')")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="two-tower setting from ModelConfig/TrainConfig, repeatable "
                            "(e.g. --set dim=128 --set use_text=false)")
    train.add_argument("--tune", default=None, type=trial_count, metavar="N",
                       help="search the two-tower's settings with N trials (Optuna: seeded TPE, "
                            "median pruning) on the validation part; the best then competes "
                            "with the other candidates as in --model auto (see "
                            "engine/training/tuning.py)")
    train.add_argument("--no-refit", action="store_true",
                       help="serve the model fitted on the split's training part instead of "
                            "refitting it on every event after the evaluation (the refit "
                            "is the default: the served model knows each shopper's latest "
                            "events; metrics always come from the first fit)")
    train.add_argument("--ann", action="store_true", default=None,
                       help="also build a candidate index for serving (FAISS; automatic from "
                            "100,000 items; see prism index build)")
    train.add_argument("--dp-epsilon", default=None, type=number, metavar="E",
                       help="two-tower: train with differential privacy over shoppers (DP-SGD, "
                            "Opacus) at this epsilon > 0 (smaller: more private, less "
                            "accurate; e.g. 1, 4 or 8); needs the privacy extra (see "
                            "docs/privacy.md)")
    train.add_argument("--dp-delta", default=None, type=number, metavar="D",
                       help="with --dp-epsilon: delta in (0, 1) (default 1 / shoppers^1.1)")
    train.add_argument("--nproc", default=1, type=positive_integer,
                       help="two-tower: train with N local processes (DDP via torchrun; gloo "
                            "on CPU, NCCL on GPUs); several machines: see docs/scale.md")
    train.set_defaults(func=train_command, train_parser=train)


OPTION_FIELDS = ("alpha", "alpha_max", "beta", "seed", "device", "epochs")  # set by options


def _as_options(message: str) -> str:
    """An engine message about a setting or an option's config field, in the CLI's words."""
    if message.startswith("setting"):
        return "--set" + message[len("setting"):]
    if message.startswith("TrainConfig.alpha_max:"):  # the high end of --alpha LOW:HIGH
        return "--alpha: the range's high end" + message[len("TrainConfig.alpha_max:"):]
    for name in OPTION_FIELDS:
        if message.startswith(f"TrainConfig.{name}:"):
            return "--" + message[len("TrainConfig."):]
    return message


def spec_from_options(args: argparse.Namespace) -> TrainSpec:
    """The one TrainSpec the options ask for (validated: ConfigError names the option).

    The split's preset (engine/training/presets.py) applies under --epochs and --set.
    """
    alpha, alpha_max = args.alpha
    private = _private(args)
    reads_text = args.model == AUTO or get_model_class(args.model).reads_text
    try:
        return train_spec(args.data, out=args.out, model=args.model, protocol=args.split,
                          seed=args.seed, alpha=alpha, alpha_max=alpha_max, beta=args.beta,
                          epochs=args.epochs, settings=args.set, device=args.device,
                          private=private, fmt=args.format, tune=_tune_trials(args),
                          encoder=_encoder_config(args) if reads_text else None,
                          progress=not args.quiet, ann=args.ann,
                          refit=not args.no_refit and args.dp_epsilon is None)
    except ConfigError as exc:
        raise ConfigError(_as_options(str(exc))) from None


def _private(args: argparse.Namespace) -> dict[str, Any]:
    """--dp-epsilon / --dp-delta as TrainConfig changes; checked against the other options."""
    if args.dp_epsilon is None:
        if args.dp_delta is not None:
            raise ConfigError("--dp-delta applies to private training only: add --dp-epsilon "
                              "or drop --dp-delta")
        return {}
    if args.model == AUTO:
        args.model = CONFIGURED_MODEL  # private training is the two-tower's: no selection
    if not get_model_class(args.model).configurable:
        raise ConfigError(f"--dp-epsilon trains the two-tower model with differential "
                          f"privacy; --model {args.model} has no private training: use "
                          f"--model {CONFIGURED_MODEL} or drop --dp-epsilon")
    for flag, value in (("--tune", args.tune is not None), ("--nproc", args.nproc != 1)):
        if value:
            raise ConfigError(f"--dp-epsilon cannot be combined with {flag} (each trial or "
                              f"process would spend the budget again); drop {flag}")
    from engine.models.private import private_settings

    if importlib.util.find_spec("opacus") is None:
        raise ConfigError("--dp-epsilon needs the privacy extra: pip install -e "
                          "'.[privacy]' (or pip install opacus), then run again")
    try:
        return private_settings(args.dp_epsilon, args.dp_delta)
    except ConfigError as exc:
        raise ConfigError(f"--dp-{exc}") from None


def _tune_trials(args: argparse.Namespace) -> int:
    """--tune N as a trial count (0 when absent); only the configured model has settings to
    search."""
    if args.tune is None:
        return 0
    if args.model != AUTO and not get_model_class(args.model).configurable:
        raise ConfigError(f"--tune searches the training settings; --model {args.model} has "
                          f"none to search: use --model auto or {CONFIGURED_MODEL}, or drop "
                          "--tune")
    if args.nproc != 1:
        raise ConfigError("--tune runs its trials in this process; drop --nproc (or --tune)")
    return args.tune


def _encoder_config(args: argparse.Namespace) -> EncoderConfig:
    config = EncoderConfig(model_name_or_path=args.encoder, device=args.device)
    resolve_model(config.model_name_or_path)  # fail before loading any data
    return config


def train_command(args: argparse.Namespace) -> int:
    """Load, split, (encode), fit, evaluate on the test part, write the run folder.

    Under torchrun every rank loads and fits; only rank 0 evaluates, writes and prints.
    `--nproc N` re-launches this command through torchrun with N local processes.
    """
    from engine.training.pipeline import train  # loads torch: only when training

    Gate.require(local_actor("cli"), "train")  # the one gate, as the studio's Training page
    nproc = _check_nproc(args)
    _check_tensorboard(args)
    spec = spec_from_options(args)
    if nproc > 1:
        return _relaunch(args, nproc)
    progress = CliProgress(args.quiet)
    with progress:
        result = train(spec, callbacks=[progress, *_callbacks(args, spec)])
    if not result.is_main:  # a rank other than 0: rank 0 evaluates and writes the run
        return 0
    if args.dp_epsilon is not None:
        result.notes.append(private_note(result.model))
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    selection = result.model.selection_
    chosen = f" (chosen on validation: {selection.chosen.label})" if selection else ""
    print(f"trained {result.model.name}{chosen} on {result.dataset.name} ({args.split}) in "
          f"{result.fit_seconds:.1f}s: {summary(result.evaluation)} → {result.path}")
    print(serving_line(result.meta["models"].get("serving")))
    return 0


def private_note(model: Any) -> str:
    """What a private run's guarantee is, in one line."""
    privacy = getattr(model, "privacy_", None) or {}
    if not privacy:
        return "trained without differential privacy"
    return (f"differential privacy over shoppers: epsilon {privacy['epsilon_spent']:.3g} spent "
            f"of {privacy['epsilon']:g} at delta {privacy['delta']:.2g} (noise multiplier "
            f"{privacy['noise_multiplier']:.3g}, clip {privacy['clip']:g}, sampling rate "
            f"{privacy['sample_rate']:.3g}, {privacy['steps_done']} steps); the model is not "
            "refit, so no second fit spends the budget again")


def serving_line(record: dict[str, Any] | None) -> str:
    """What the run serves: the refit model (its epochs and events), or the first fit."""
    if not record or not record.get("refit"):
        return ("serving: the model above (fitted on the training part; --no-refit), with "
                "every event as the shoppers' history")
    epochs = f", {record['epochs']} epochs" if record.get("epochs") else ""
    return (f"serving: {record['model']} refit on every event ({record['interactions']:,} "
            f"interactions{epochs}) in {record['fit_seconds']:.1f}s; the metrics above are "
            "the first fit's")


def _check_nproc(args: argparse.Namespace) -> int:
    """Distributed training (--nproc, torchrun) is for models that train in epochs."""
    from engine.models import distributed  # loads torch

    nproc = args.nproc
    under_torchrun = distributed.launched_by_torchrun()
    if (nproc > 1 or under_torchrun) and args.model == AUTO:
        args.model = CONFIGURED_MODEL  # distributed training has no model selection
    if nproc > 1 and under_torchrun:
        raise ConfigError("--nproc cannot be combined with torchrun: torchrun's "
                          "--nproc-per-node already sets the number of processes; drop --nproc.")
    if (nproc > 1 or under_torchrun) and not get_model_class(args.model).trains_in_epochs:
        raise ConfigError(f"distributed training (--nproc, torchrun) applies to models that "
                          f"train in epochs, not {args.model!r}; use --model "
                          f"{CONFIGURED_MODEL} or drop it.")
    return nproc


def _relaunch(args: argparse.Namespace, nproc: int) -> int:
    """Run this `prism train` as `nproc` processes through torch.distributed.run."""
    from engine.models import distributed  # loads torch

    if not Path(args.data).exists():
        raise DataError(f"--data {args.data}: no such file or folder; check the path.")
    code = distributed.launch(nproc, forwarded_argv(args))
    if code != 0:
        raise RunError(f"distributed training with {nproc} processes failed (exit status "
                       f"{code}); the first error above says why.")
    return 0


def forwarded_argv(args: argparse.Namespace) -> list[str]:
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
        elif isinstance(value, tuple):  # a parsed range such as --alpha LOW:HIGH
            argv.append(f"{flag}={':'.join(str(part) for part in value if part is not None)}")
        elif value is not None:
            argv.append(f"{flag}={value}")
    return argv


def _check_tensorboard(args: argparse.Namespace) -> None:
    """--tensorboard is for models that train in epochs, and needs the package."""
    if args.tensorboard is None:
        return
    if args.model != AUTO and not get_model_class(args.model).trains_in_epochs:
        raise ConfigError(f"--tensorboard logs training epochs, which model {args.model!r} "
                          f"does not have; drop --tensorboard or use --model {CONFIGURED_MODEL}")
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install -e "
                          "'.[tensorboard]' (or pip install tensorboard), then run again")


def _callbacks(args: argparse.Namespace, spec: TrainSpec) -> list[Any]:
    """The trainer's epoch bar and the TensorBoard logger, for models that have epochs."""
    if not spec.model_class.trains_in_epochs:
        return []
    callbacks: list[Any] = [] if args.quiet else [ProgressBar()]
    if args.tensorboard:
        callbacks.append(tensorboard_logger(args.tensorboard))
    return callbacks
