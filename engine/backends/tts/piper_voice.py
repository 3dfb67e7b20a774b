"""A Piper voice loaded once per process: an ONNX session fed seeded noise, so a line repeats."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from engine.backends.tts.piper_words import Span, word_spans

log = logging.getLogger(__name__)

NOISE_CHUNK = 1024
"""Noise is made in chunks of this many steps, so a grown buffer keeps its first values."""
MAX_NOISE = 1 << 16
"""Most frames of noise a sentence may need (~12 minutes of speech at 22 kHz)."""


@dataclass(frozen=True, slots=True)
class PiperPlan:
    """What one line is spoken with: model, speaker, Piper's scales, pitch factor, speech level."""

    model: str
    speaker: int | None
    length_scale: float
    noise_scale: float
    noise_w: float
    pitch: float
    level: float


class LoadedVoice:
    """One Piper model in an ONNX session whose random noise is fed in, so output is repeatable.

    Piper's graphs draw noise with RandomNormalLike, whose generator onnxruntime seeds once per
    session and then advances with every run: the same line spoken twice differs. Each of those
    nodes is therefore replaced (in memory) by a slice of a graph input the size of its input,
    and every run is fed the same seeded noise.
    """

    def __init__(self, model: Path, threads: int) -> None:
        import onnxruntime
        from piper import PiperVoice
        from piper.config import PiperConfig

        config = voice_config_path(model)
        with open(config, encoding="utf-8") as handle:
            settings = PiperConfig.from_dict(json.load(handle))
        graph, self.noise_shapes = _seeded_graph(model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 4  # errors are raised, not logged
        session = onnxruntime.InferenceSession(graph, sess_options=options,
                                               providers=["CPUExecutionProvider"])
        self.voice = PiperVoice(session=session, config=settings)
        self.sample_rate = int(self.voice.config.sample_rate)
        self._noise: dict[int, list[np.ndarray]] = {}
        self._noise_lock = threading.Lock()

    @property
    def speakers(self) -> Mapping[str, int]:
        return self.voice.config.speaker_id_map

    @property
    def language(self) -> str:
        return self.voice.config.espeak_voice

    def sentences(self, text: str) -> list[tuple[list[str], list[int]]]:
        """Each sentence's phonemes and phoneme ids."""
        return [(p, self.voice.phonemes_to_ids(p)) for p in self.voice.phonemize(text) if p]

    def spans(self, phonemes: list[str], ids: list[int], id_samples: np.ndarray | None
              ) -> list[Span] | None:
        """Each word's samples in a sentence's audio (None: the model gives no alignment)."""
        return word_spans(phonemes, ids, id_samples, self.voice.config.phoneme_id_map)

    def audio(self, ids: list[int], plan: PiperPlan, seed: int) -> tuple[np.ndarray,
                                                                         np.ndarray | None]:
        """Samples at the model's rate for one sentence's phoneme ids, as loud as the model made,
        and how many samples each id took (None: the model has no alignment output)."""
        # a sentence makes about two frames per phoneme id at length_scale 1: twice that is ample
        length = max(NOISE_CHUNK, int(4 * len(ids) * plan.length_scale))
        speaker = plan.speaker
        if speaker is None and self.voice.config.num_speakers > 1:
            speaker = self.voice.config.default_speaker_id
        while True:
            feed = {"input": np.array([ids], dtype=np.int64),
                    "input_lengths": np.array([len(ids)], dtype=np.int64),
                    "scales": np.array([plan.noise_scale,
                                        plan.length_scale * self.voice.config.length_scale,
                                        plan.noise_w], dtype=np.float32)}
            if speaker is not None:
                feed["sid"] = np.array([speaker], dtype=np.int64)
            feed.update(self.noise(seed, length))
            try:
                result = self.voice.session.run(None, feed)
                samples = np.asarray(result[0], np.float32).reshape(-1)
                if len(result) < 2:
                    return samples, None
                return samples, (np.asarray(result[1]).reshape(-1)
                                 * self.voice.config.hop_length).astype(np.int64)
            except Exception as error:  # noqa: BLE001 - onnxruntime's errors share no useful base
                # Too little noise for the frames this sentence came to: its slice comes out
                # short and an elementwise op cannot broadcast it; retry with more (the first
                # values stay the same, so the output does not depend on the retry).
                if "broadcast" not in str(error).lower() or length >= MAX_NOISE:
                    raise
                length *= 4

    def noise(self, seed: int, length: int) -> dict[str, np.ndarray]:
        """Seeded standard-normal noise for each noise input, `length` steps long (or more)."""
        chunks = -(-length // NOISE_CHUNK)
        with self._noise_lock:
            made = self._noise.setdefault(seed, [])
            if not made or made[0].shape[-1] < chunks * NOISE_CHUNK:
                made[:] = [_noise_block(seed, index, channels, chunks)
                           for index, (_, channels) in enumerate(self.noise_shapes)]
            return {name: buffer for (name, _), buffer in zip(self.noise_shapes, made)}


def _noise_block(seed: int, index: int, channels: int, chunks: int) -> np.ndarray:
    parts = [np.random.default_rng([seed, index, chunk]).standard_normal(
        (1, channels, NOISE_CHUNK), dtype=np.float32) for chunk in range(chunks)]
    return np.concatenate(parts, axis=-1)


def _seeded_graph(model: Path) -> tuple[bytes, list[tuple[str, int]]]:
    """The model's graph with each RandomNormalLike fed from a new input; those inputs' names and
    channel counts (256 where the graph leaves it open: the slice takes what it needs)."""
    import onnx
    from onnx import TensorProto, helper, shape_inference

    proto = onnx.load(str(model))
    try:
        inferred = shape_inference.infer_shapes(proto)
        shapes = {info.name: [d.dim_value or None for d in info.type.tensor_type.shape.dim]
                  for info in list(inferred.graph.value_info) + list(inferred.graph.input)}
    except Exception:  # noqa: BLE001 - shapes only size the noise; defaults below are safe
        shapes = {}
    graph, nodes, noise = proto.graph, [], []
    for node in graph.node:
        if node.op_type != "RandomNormalLike":
            nodes.append(node)
            continue
        source, target = node.input[0], node.output[0]
        dims = shapes.get(source) or [None, None, None]
        settings = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if len(dims) != 3 or settings.get("mean", 0.0) != 0.0 or settings.get("scale", 1.0) != 1.0:
            raise ValueError(f"{model.name}: its noise is not standard normal of rank 3")
        name = f"storyreel_noise_{len(noise)}"
        graph.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                         [1, None, None]))
        graph.initializer.append(helper.make_tensor(f"{name}_starts", TensorProto.INT64, [3],
                                                    [0, 0, 0]))
        nodes.append(helper.make_node("Shape", [source], [f"{name}_shape"]))
        nodes.append(helper.make_node("Slice", [name, f"{name}_starts", f"{name}_shape"],
                                      [target]))
        noise.append((name, int(dims[1] or 256)))
    del graph.node[:]
    graph.node.extend(nodes)
    _with_alignment(proto)
    return proto.SerializeToString(), noise


def _with_alignment(proto: Any) -> None:
    """Expose the model's frames per phoneme id (its one Ceil tensor) as a second output, as
    piper's own `include_alignments` does; a model without one speaks without word times."""
    from piper.patch_voice_with_alignment import add_alignment_output

    try:
        add_alignment_output(proto)
    except ValueError as error:  # no such tensor, several, or already an output
        log.debug("piper: no alignment output added: %s", error)


def voice_config_path(model: Path) -> Path:
    """A Piper voice's settings file: VOICE.onnx.json beside VOICE.onnx."""
    return model.with_name(model.name + ".json")


_VOICES: dict[tuple[str, int], LoadedVoice] = {}
_VOICES_LOCK = threading.Lock()


def loaded_voice(model: Path, threads: int) -> LoadedVoice:
    """The model's session, loaded once per process (every PiperTTS and thread shares it)."""
    key = (str(model), threads)
    with _VOICES_LOCK:
        if key not in _VOICES:
            log.info("loading Piper voice %s", model)
            _VOICES[key] = LoadedVoice(model, threads)
        return _VOICES[key]
