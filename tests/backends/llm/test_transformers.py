"""llm=transformers: a tiny random GPT-2 and a tokenizer built offline, through the real loading path."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from engine.backends.llm import CharacterBrief, LineBrief, SceneBrief, WriteRequest  # noqa: E402
from engine.backends.llm.transformers import TransformersWriter  # noqa: E402
from engine.errors import BackendError  # noqa: E402

WORDS = ("{ } [ ] : , \" scenes id title setting image lines speaker text direction narrator "
         "Luna Owl moon night the a glow hoo hello null").split()
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")
REQUEST = WriteRequest(
    "Moon", "3-6", "watercolor", "en", None,
    (CharacterBrief("Luna", "a small moon", "child"), CharacterBrief("Owl", "an owl", "elder")),
    (SceneBrief("night", "Night", "a village", ("Luna", "Owl"),
                (LineBrief(None, "The night was quiet."), LineBrief("Owl", None)), None),))
MESSAGES = [{"role": "system", "content": "You answer JSON."},
            {"role": "user", "content": "Write { \"scenes\" : [ ] } for Luna and Owl"}]


def _tokenizer(chat_template: str | None):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<eos>", "<|system|>", "<|user|>", "<|assistant|>"]
    vocab = {token: number for number, token in enumerate(specials + WORDS)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                  pre_tokenizers.Punctuation()])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>",
                                        pad_token="<pad>", eos_token="<eos>",
                                        additional_special_tokens=specials[3:])
    tokenizer.chat_template = chat_template
    return tokenizer


def _save_model(folder: Path, chat_template: str | None, *, pickled: bool = False) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = _tokenizer(chat_template)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=32, n_layer=1,
                        n_head=2, bos_token_id=2, eos_token_id=2, pad_token_id=1)
    model = GPT2LMHeadModel(config)
    folder.mkdir(parents=True)
    tokenizer.save_pretrained(folder)
    if pickled:
        config.save_pretrained(folder)
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    else:
        model.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-llms")
    return {"chat": _save_model(root / "tiny-chat", CHAT_TEMPLATE),
            "plain": _save_model(root / "tiny-plain", None),
            "pickled": _save_model(root / "tiny-pickled", CHAT_TEMPLATE, pickled=True)}


def test_generates_through_the_chat_template_deterministically(models):
    assert list(models["chat"].glob("*.safetensors"))
    writer = TransformersWriter(str(models["chat"]), max_new_tokens=12)
    first = writer.chat(MESSAGES, {}, "story_fill")
    second = writer.chat(MESSAGES, {}, "story_fill")
    assert first == second and first.requests == 1
    assert 0 < first.completion_tokens <= 12 and first.prompt_tokens > 10
    model, tokenizer = writer._load()
    prompt = writer._prompt(tokenizer, MESSAGES)
    assert prompt.startswith("<|system|> You answer JSON.") and prompt.endswith("<|assistant|>")
    assert first.prompt_tokens == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])


def test_sampling_is_seeded(models):
    one = TransformersWriter(str(models["chat"]), max_new_tokens=10, temperature=1.0, seed=3)
    two = TransformersWriter(str(models["chat"]), max_new_tokens=10, temperature=1.0, seed=3)
    assert one.chat(MESSAGES, {}, "x").text == two.chat(MESSAGES, {}, "x").text


def test_a_tokenizer_without_chat_template_gets_a_plain_prompt(models):
    writer = TransformersWriter(str(models["plain"]), max_new_tokens=6)
    reply = writer.chat(MESSAGES, {}, "story_fill")
    _, tokenizer = writer._load()
    assert writer._prompt(tokenizer, MESSAGES).startswith("SYSTEM:\nYou answer JSON.\n\nUSER:\n")
    assert 0 < reply.completion_tokens <= 6


def test_random_output_is_retried_then_fails_clearly(models, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING)
    writer = TransformersWriter(str(models["chat"]), max_new_tokens=16, validation_attempts=2)
    with pytest.raises(BackendError) as caught:
        writer.write(REQUEST)
    message = str(caught.value)
    assert message.startswith("story 'Moon': llm=transformers: the fill answer was still "
                              "unusable after 2 attempts")
    assert "JSON" in message and "hint:" in message
    warnings = [r.getMessage() for r in caplog.records if "answer 1 of 2 was invalid" in
                r.getMessage() or "answer 2 of 2 was invalid" in r.getMessage()]
    assert len(warnings) == 2


def test_a_pickled_checkpoint_is_refused(models):
    writer = TransformersWriter(str(models["pickled"]))
    with pytest.raises(BackendError, match=r"refusing to load the pickled checkpoint "
                                           r".*tiny-pickled/pytorch_model.bin"):
        writer.write(REQUEST)


def test_a_missing_folder_names_the_setting(tmp_path: Path):
    with pytest.raises(BackendError, match="no model folder at .*nowhere"):
        TransformersWriter(str(tmp_path / "nowhere")).write(REQUEST)


def test_a_prompt_past_the_context_fails_before_generating(models):
    writer = TransformersWriter(str(models["chat"]), max_new_tokens=5000)
    with pytest.raises(BackendError, match="the model takes at most 1024"):
        writer.chat(MESSAGES, {}, "story_fill")


def test_identity_names_the_weights_and_settings(models):
    chat = TransformersWriter(str(models["chat"])).identity()
    assert chat == TransformersWriter(str(models["chat"])).identity()
    assert chat["backend"] == "transformers" and chat["model"] == "tiny-chat"
    assert chat["weights"] != TransformersWriter(str(models["plain"])).identity()["weights"]
    assert TransformersWriter(str(models["chat"]), seed=1).identity() != chat
