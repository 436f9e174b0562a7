"""Text encoder: bundled model, any `from_pretrained` folder with each pooling, and the cache."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from engine.core.config import EncoderConfig
from engine.core.errors import ConfigError
from engine.text.encoders import TextEncoder, auto_pooling, bundled_model_path, resolve_model

TEXTS = ["red running shoes for men", "blue running sneakers", "stainless steel hex screws",
         "red running shoes for men"]
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt",
                   "special_tokens_map.json")


@pytest.fixture(scope="module")
def bundled() -> TextEncoder:
    return TextEncoder(progress=False, cache=False)


def test_bundled_model_gives_384d_unit_vectors(bundled: TextEncoder) -> None:
    vectors = bundled.encode(TEXTS)
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(vectors[0], vectors[3], atol=1e-6)


def test_similar_texts_are_closer_than_unrelated_ones(bundled: TextEncoder) -> None:
    shoes, sneakers, screws = bundled.encode(TEXTS[:3])
    assert shoes @ sneakers > shoes @ screws + 0.2


def test_second_call_reencodes_nothing(tmp_path: Path) -> None:
    first = TextEncoder(progress=False, cache_dir=tmp_path)
    vectors = first.encode(TEXTS)
    assert first.texts_encoded == 3  # the duplicate text is encoded once
    again = TextEncoder(progress=False, cache_dir=tmp_path)
    np.testing.assert_array_equal(again.encode(TEXTS[::-1]), vectors[::-1])
    assert again.texts_encoded == 0
    assert again._backend is None  # a full cache hit never even loads the network
    again.encode(TEXTS + ["a brand new text"])
    assert again.texts_encoded == 1


def test_cache_is_keyed_by_model_settings(tmp_path: Path) -> None:
    TextEncoder(progress=False, cache_dir=tmp_path).encode(TEXTS[:1])
    other = TextEncoder(EncoderConfig(max_length=16), progress=False, cache_dir=tmp_path)
    other.encode(TEXTS[:1])
    assert other.texts_encoded == 1
    assert len(list(tmp_path.iterdir())) == 2


def test_interrupted_encoding_resumes_from_persisted_chunks(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Stopped from the progress callback after three batches (a chunk and a half): the rerun
    encodes only the texts no batch had finished."""
    monkeypatch.setattr("engine.text.encoders.CHUNK_TEXTS", 4)
    texts = [f"product number {i} with a description" for i in range(10)]
    encoder = TextEncoder(EncoderConfig(batch_size=2), progress=False, cache_dir=tmp_path)
    seen: list[int] = []

    def stop_after_three_batches(done: int, total: int) -> None:
        seen.append(done)
        if len(seen) == 4:  # the first call reports what the cache already held (0)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        encoder.encode(texts, stop_after_three_batches)
    assert seen == [0, 2, 4, 6] and encoder.texts_encoded == 6
    resumed = TextEncoder(EncoderConfig(batch_size=2), progress=False, cache_dir=tmp_path)
    counts: list[int] = []
    vectors = resumed.encode(texts, lambda done, total: counts.append(done))
    assert resumed.texts_encoded == 4 and counts[0] == 6 and counts[-1] == 10
    fresh = TextEncoder(EncoderConfig(batch_size=2), progress=False, cache=False)
    np.testing.assert_allclose(vectors, fresh.encode(texts), atol=1e-5)


def tiny_model_folder(tmp_path: Path, kind: str) -> Path:
    """A randomly initialised BERT / GPT-2 / T5 with the bundled WordPiece tokenizer."""
    import transformers as tf

    vocab = 30522
    folder = tmp_path / kind
    if kind == "bert":
        model = tf.BertModel(tf.BertConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=1,
                                           num_attention_heads=2, intermediate_size=64))
    elif kind == "gpt2":
        model = tf.GPT2Model(tf.GPT2Config(vocab_size=vocab, n_embd=32, n_layer=1, n_head=2))
    else:
        model = tf.T5Model(tf.T5Config(vocab_size=vocab, d_model=32, d_kv=16, d_ff=64,
                                       num_layers=1, num_heads=2))
    model.save_pretrained(folder)
    for name in TOKENIZER_FILES:
        shutil.copy(Path(bundled_model_path()) / name, folder / name)
    return folder


@pytest.mark.parametrize(("kind", "auto"), [("bert", "mean"), ("gpt2", "last"), ("t5", "mean")])
@pytest.mark.parametrize("pooling", ["auto", "mean", "cls", "last"])
def test_any_pretrained_folder_with_each_pooling(tmp_path: Path, kind: str, auto: str,
                                                 pooling: str) -> None:
    folder = tiny_model_folder(tmp_path, kind)
    encoder = TextEncoder(EncoderConfig(model_name_or_path=str(folder), pooling=pooling),
                          progress=False, cache=False)
    batch = encoder.encode(["a short one", "a much longer product title with several words"])
    assert batch.shape == (2, 32)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    assert encoder._backend.pooling == (auto if pooling == "auto" else pooling)
    # padding must not change a text's vector: encode the short text alone
    alone = encoder.encode(["a short one"])[0]
    np.testing.assert_allclose(alone, batch[0], atol=1e-5)


def test_auto_pooling_by_architecture() -> None:
    import transformers as tf

    assert auto_pooling(tf.BertConfig()) == "mean"
    assert auto_pooling(tf.GPT2Config()) == "last"
    assert auto_pooling(tf.T5Config()) == "mean"


def test_missing_path_and_non_model_folder_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_model(str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_non_text_model_is_a_config_error(tmp_path: Path) -> None:
    import transformers as tf

    tf.ViTModel(tf.ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                             intermediate_size=64, image_size=32, patch_size=16)
                ).save_pretrained(tmp_path)
    encoder = TextEncoder(EncoderConfig(model_name_or_path=str(tmp_path)), progress=False,
                          cache=False)
    with pytest.raises(ConfigError, match="text"):
        encoder.encode(["hello"])


def test_tokenizer_is_safe_to_share_across_threads(bundled: TextEncoder) -> None:
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            results[slot] = bundled.encode([TEXTS[slot % 3]] * 8)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    np.testing.assert_allclose(results[0][0], results[3][0], atol=1e-5)


def test_encoding_reports_a_count_after_every_batch(tmp_path: Path) -> None:
    texts = [f"product number {i} in a long catalogue" for i in range(10)]
    encoder = TextEncoder(EncoderConfig(batch_size=3), progress=False, cache_dir=tmp_path)
    heard: list[tuple[int, int]] = []
    encoder.encode(texts + texts[:2], on_progress=lambda done, total: heard.append((done, total)))
    assert heard[0] == (0, 10) and heard[-1] == (10, 10)  # distinct texts, from none to all
    assert len(heard) == 1 + 4  # once before the network, then after each batch of 3
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)
    again: list[tuple[int, int]] = []
    encoder.encode(texts[:4] + ["one text not seen yet"],
                   on_progress=lambda done, total: again.append((done, total)))
    assert again == [(4, 5), (5, 5)]  # the cached ones count as ready at once
