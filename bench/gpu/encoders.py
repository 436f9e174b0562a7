"""GPU check: the text encoder the encode stage times (the bundled model, the local Hugging
Face cache, or a random-weight stand-in of the same architecture) and its text sampling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.gpu.timing import log

HUB_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MINILM = {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
          "intermediate_size": 1536, "vocab_size": 30522, "max_position_embeddings": 512}
TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
             "intermediate_size": 64, "vocab_size": 2000, "max_position_embeddings": 512}
STAND_IN_SEED = 0  # the stand-in's random weights


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
    torch.manual_seed(STAND_IN_SEED)
    config = BertConfig(**{**spec, "vocab_size": max(tok.get_vocab_size(), 8)})
    BertModel(config).save_pretrained(str(folder))
