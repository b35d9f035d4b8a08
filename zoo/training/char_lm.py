"""What every character-level language model (RNN, GRU, LSTM, Transformer) shares: the recipe
that trains and measures a shipped checkpoint on the text corpus, bits per character,
sampling with temperature / top-k / top-p, and the fine-tuning job on a person's own text.

A character model maps a LongTensor (B, T) of ids to logits (B, T, V), has `loss(x, y)`, and
`next_logits(idx, memory)`: the next character's logits and what it keeps of the text read so far (a
recurrent state, a KV cache), which `generate` hands back with the text one character longer. Its
card holds `vocab`.
"""
from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterator

import torch
import torch.nn.functional as F

from zoo import checkpoints, progress
from zoo.data import text
from zoo.devices import pick_device
from zoo.i18n import t
from zoo.layers.batches import AnalysisBatch, text_windows
from zoo.training import ngram
from zoo.training.finetune import BestWeights, mixed_batches, rehearsal_rows
from zoo.training.loop import clip_gradients, is_last, make_optimizer, remember, resume, train_steps
from zoo.training.recipe import ModuleRecipe

LN2 = math.log(2)
MIN_FINETUNE_CHARS = 2000
"""the shortest text a fine-tuning run accepts: a tenth of it chooses the weights kept, a tenth measures them"""
HELD_OUT_CHARS = 5000
"""the most characters of the person's text in each of the validation and held-out pieces"""
REHEARSAL = 0.75
"""the share of each fine-tuning batch's rows taken from the original training text, so the model keeps it"""
WORSE_BPC = 0.01
"""the smallest rise in bits per character a fine-tuning run reports as the model getting worse"""


@dataclass
class CharLMTraining:
    """How a shipped character model is trained from scratch on the corpus's train split."""
    steps: int = 6000
    batch_size: int = 64
    seq_len: int = 128
    lr: float = 3e-3
    weight_decay: float = 0.01
    grad_clip: float | None = None
    """largest global gradient norm (recurrent nets need it: one long dependency can blow a step up)"""
    bf16_on_cpu: bool = False
    """train under bfloat16 autocast on the CPU as on a GPU (`train_steps`); the weights stay float32"""
    seed: int = 0


@dataclass
class CharLMRecipe(ModuleRecipe):
    """A character model: class, config (its `vocab_size` is set from the corpus), training."""
    training: CharLMTraining = field(default_factory=CharLMTraining)
    dataset: str = text.NAME
    eval_context: int = 256
    """characters of context each scored character gets (at least half of it) in `evaluate`"""

    def vocab(self) -> text.Vocab:
        return corpus_vocab()

    def config_dict(self) -> dict[str, Any]:
        return asdict(self.config) | {"vocab_size": len(self.vocab())}

    def card_fields(self) -> dict[str, Any]:
        """What the card records beyond the generic fields: the vocabulary and the data splits."""
        return {"vocab": str(self.vocab()), "data": text.splits_info()}

    def total_steps(self) -> int:
        return self.training.steps

    def fit(self, model: torch.nn.Module, device: torch.device, state: dict[str, Any]) -> Iterator[dict]:
        """Train from `state` (empty for a fresh run); `state` is updated in place to resume."""
        t = self.training
        model.to(device)
        optimizer, scheduler = make_optimizer(model, t.lr, t.weight_decay, t.steps, "onecycle")
        clip_gradients(optimizer, t.grad_clip)
        start = resume(state, t.seed, model=model, optimizer=optimizer, scheduler=scheduler)
        ids = self.vocab().encode(text.load("train"))
        batches = text.batches(ids, t.batch_size, t.seq_len, t.seed, start)
        for event in train_steps(model, batches, optimizer, t.steps, scheduler=scheduler, start_step=start,
                                 bf16_on_cpu=t.bf16_on_cpu):
            remember(state, event["step"], model=model, optimizer=optimizer, scheduler=scheduler)
            event["total"] = t.steps
            yield event

    def evaluate(self, model: torch.nn.Module, device: torch.device, limit: int | None = None) -> dict[str, Any]:
        """Validation bits per character, beside the best smoothed n-gram (orders 1-6) on the same text;
        `limit` measures about that many characters, taken from both sources (`validation_sample`)."""
        vocab = self.vocab()
        validation = text.load("validation") if limit is None else validation_sample(limit)
        measured = bits_per_char(model, vocab.encode(validation), self.eval_context, device)
        baseline = ngram_baseline(vocab.replace_unknown(validation))
        return {"bits_per_char": measured, "n": len(validation), "ngram_bits_per_char": baseline["best_bits_per_char"],
                "ngram_order": baseline["best_order"]}

    def analysis_batch(self, model: torch.nn.Module, card: dict[str, Any], size: int) -> AnalysisBatch:
        """Windows of the validation text, coloured by the kind of character that follows each: the batch of
        the layer analysis (zoo.layers)."""
        chars = text.load("validation")
        return text_windows(text.Vocab(card["vocab"]).encode(chars), chars, size)


@functools.cache
def corpus_vocab() -> text.Vocab:
    """The characters of the train split that every shipped character model reads, counted once a process."""
    return text.Vocab.build(text.load("train"))


@functools.lru_cache(maxsize=2)
def ngram_baseline(validation: str) -> dict[str, Any]:
    """Smoothed character n-grams of orders 1-6 fitted on the train split and scored on `validation`
    (in the vocabulary's characters): the same for every character model, so measured once a process."""
    return ngram.compare_orders(corpus_vocab().replace_unknown(text.load("train")), validation)


@torch.no_grad()
def bits_per_char(model: torch.nn.Module, ids: torch.Tensor, context: int = 256,
                  device: torch.device | None = None, batch_size: int = 32) -> float:
    """Mean -log2 p(next character) over `ids`, read in windows of `context` that overlap by half,
    so every character after the first window is scored with at least context/2 characters before it."""
    device = device or next(model.parameters()).device
    model.to(device).eval()
    if len(ids) < 2:
        raise ValueError("bits per character needs at least two characters")
    context = min(context, len(ids) - 1)
    stride = max(1, context // 2)
    starts = list(range(0, len(ids) - 1 - context, stride)) + [len(ids) - 1 - context]
    total, count, scored_to = 0.0, 0, 0
    for i in progress.bar(range(0, len(starts), batch_size), "bits per character", unit="batch"):
        chunk = starts[i:i + batch_size]
        window = torch.stack([ids[s:s + context + 1] for s in chunk]).to(device)
        logits = model(window[:, :-1]).float()
        nll = F.cross_entropy(logits.transpose(1, 2), window[:, 1:], reduction="none")  # (B, T)
        for row, s in enumerate(chunk):
            first = max(scored_to, s + 1) - (s + 1)  # skip characters an earlier window already scored
            total += nll[row, first:].sum().item()
            count += context - first
            scored_to = s + 1 + context
    return total / count / LN2


def sample_next(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Ids (B,) drawn from the last logits (B, V): temperature 0 is the argmax; top-k keeps the k
    likeliest, top-p the smallest set whose probability reaches p (Holtzman et al. 2019)."""
    return torch.multinomial(next_char_probs(logits, temperature, top_k, top_p), 1, generator=generator)[:, 0] \
        if temperature > 0 else logits.argmax(-1)


def next_char_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                    top_p: float | None = None) -> torch.Tensor:
    """The distribution (B, V) that `sample_next` draws from, for showing it."""
    if temperature <= 0:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).float()
    logits = logits.float() / temperature
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(-1) - sorted_probs  # probability of the likelier characters
        sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
        probs = probs / probs.sum(-1, keepdim=True)
    return probs


@torch.no_grad()
def generate(model: torch.nn.Module, idx: torch.Tensor, n: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """`idx` (B, T) followed by `n` characters, each drawn by `sample_next` from the model's `next_logits`."""
    memory = None
    for _ in range(n):
        logits, memory = model.next_logits(idx, memory)
        idx = torch.cat([idx, sample_next(logits, temperature, top_k, top_p, generator)[:, None]], dim=1)
    return idx


def validation_sample(n_chars: int, pieces: int = 20) -> str:
    """About `n_chars` of the validation split in `pieces` evenly spaced pieces, so a quick measurement
    sees the same mix of English (Bible and Wikipedia, their topics) as the card's whole-split figure."""
    validation = text.load("validation")
    size = max(1, min(n_chars, len(validation)) // pieces)
    starts = [round(i * (len(validation) - size) / max(1, pieces - 1)) for i in range(pieces)]
    return text.JOIN.join(validation[start:start + size] for start in starts)


@torch.no_grad()
def generate_text(model: torch.nn.Module, vocab: text.Vocab, prompt: str, n: int, temperature: float = 1.0,
                  top_k: int | None = None, top_p: float | None = None, seed: int = 0) -> str:
    """The `n` characters a character model writes after `prompt` (characters outside its
    vocabulary read as UNKNOWN), reproducible by `seed`."""
    if not prompt:
        raise ValueError("a prompt needs at least one character")
    device = next(model.parameters()).device
    ids = vocab.encode(prompt)[None].to(device)  # (1, T)
    generator = torch.Generator(device=device).manual_seed(seed)
    out = generate(model, ids, n, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
    return vocab.decode(out[0, ids.shape[1]:].cpu())


@torch.no_grad()
def step_distributions(model: torch.nn.Module, ids: torch.Tensor, temperature: float = 1.0, top_k: int | None = None,
                       top_p: float | None = None) -> torch.Tensor:
    """(T, V): the distribution of the character after each prefix ids[:t + 1] of the (T,) ids, as
    `sample_next` would draw from it; the ids must fit in the model's context."""
    device = next(model.parameters()).device
    logits = model(ids[None].to(device))[0]  # (T, V)
    return next_char_probs(logits, temperature, top_k, top_p).cpu()


@functools.lru_cache(maxsize=1)
def corpus_ids(chars: str) -> torch.Tensor:
    """The corpus's train split in the ids of vocabulary `chars`: what a fine-tuning run rehearses, kept as int16
    (13 MB instead of 51 in every worker that fine-tunes)."""
    return text.Vocab(chars).encode(text.load("train")).to(torch.int16)


def held_out_pieces(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The person's ids cut into what a fine-tuning run trains on, the validation piece that chooses the
    weights it keeps (the second-last tenth) and the held-out piece that measures it (the last tenth);
    each piece at most HELD_OUT_CHARS, so a long text is measured as quickly as a short one."""
    piece = min(len(ids) // 10, HELD_OUT_CHARS)
    return ids[:-2 * piece], ids[-2 * piece:-piece], ids[-piece:]


def finetune_charlm(name: str, person_text: str, lr: float = 3e-4, steps: int = 100, batch_size: int = 16,
                    seq_len: int = 128, rehearsal: float = REHEARSAL, eval_every: int = 10, patience: int | None = 3,
                    sample_every: int = 25, prompt: str = "The ", sample_chars: int = 160,
                    original_chars: int = 20_000, grad_clip: float | None = 1.0, seed: int = 0) -> Iterator[dict]:
    """Job: fine-tune shipped character model NAME on `person_text` (`held_out_pieces`), a `rehearsal` share of each
    batch being original text so it keeps what it knew. Bits per character on the validation piece every `eval_every`
    steps choose the weights kept (`BestWeights`); on the held-out piece and the original validation text, before and
    after, they show what it learned and forgot, `warnings` saying what got worse and why."""
    torch.manual_seed(seed)
    device = pick_device()
    model, card = checkpoints.load(name, device)
    vocab = text.Vocab(card["vocab"])
    ids = vocab.encode(person_text)
    if len(ids) < MIN_FINETUNE_CHARS:
        raise ValueError(t("char_lm.too_short", least=MIN_FINETUNE_CHARS, n=len(ids)))
    train_ids, validation, held_out = held_out_pieces(ids)
    own_rows, original_rows = rehearsal_rows(batch_size, rehearsal)
    seq_len = min(seq_len, max(8, len(train_ids) // (own_rows + 1)))
    original = vocab.encode(validation_sample(original_chars))
    context = card.get("config", {}).get("context", 256)

    def measure() -> dict[str, float]:
        return {"yours": bits_per_char(model, held_out, context), "original": bits_per_char(model, original, context)}

    def sample() -> str:
        generator = torch.Generator(device=device).manual_seed(seed)
        out = generate(model, vocab.encode(prompt)[None].to(device), sample_chars, temperature=0.8,
                       generator=generator)
        return vocab.decode(out[0].cpu())

    before = measure()
    start_bpc = bits_per_char(model, validation, context)
    best = BestWeights(model, -start_bpc, patience)
    yield {"step": 0, "bpc_before": before, "validation_bpc": start_bpc, "sample": sample(),
           "n_train": len(train_ids), "n_validation": len(validation), "n_held_out": len(held_out)}
    optimizer, _ = make_optimizer(model, lr, weight_decay=0.0)
    clip_gradients(optimizer, grad_clip)
    rehearsed = text.batches(corpus_ids(str(vocab)), original_rows, seq_len, seed) if original_rows else None
    batches = mixed_batches(text.batches(train_ids, own_rows, seq_len, seed), rehearsed)
    step = 0
    for event in train_steps(model, batches, optimizer, steps):
        step = event["step"]
        if step % eval_every == 0 or is_last(event, steps):
            event["validation_bpc"] = bits_per_char(model, validation, context)
            best.update(step, -event["validation_bpc"])
        if step % sample_every == 0 or is_last(event, steps):
            event["sample"] = sample()
        yield event
        if best.should_stop:
            break
    best.restore()
    after = measure()
    epochs = best.best_step * own_rows * seq_len / len(train_ids)
    yield {"step": step, "bpc_before": before, "bpc_after": after, "kept_step": best.best_step,
           "summary": finetune_summary(best, step, steps, len(validation)),
           "kept_sample": sample(),
           "warnings": finetune_warnings(before, after, best.best_step, len(train_ids), epochs,
                                         original_rows / batch_size)}
    return checkpoints.state_dict_bytes(model)


def finetune_summary(best: BestWeights, last_step: int, steps: int, n_validation: int) -> str:
    """What a run kept and why, for the person, as `BestWeights.summary` says it, in the reader's language."""
    kept = "unchanged" if best.best_step == 0 else "step"
    stopped = "_stopped" if last_step < steps else ""
    return t(f"char_lm.summary.{kept}{stopped}", step=best.best_step, n=n_validation, last=last_step, steps=steps,
             patience=best.patience)


def finetune_warnings(before: dict[str, float], after: dict[str, float], kept_step: int, n_train: int, epochs: float,
                      rehearsal: float) -> list[str]:
    """Plain sentences for each figure a fine-tuning run made worse (by WORSE_BPC or more) and why, from the step
    kept, the characters it trained on, how often it had read them by then, and the rehearsed share."""
    warnings = []
    if after["yours"] - before["yours"] >= WORSE_BPC:
        warnings.append(t("char_lm.warning.overfit", before=before["yours"], after=after["yours"], step=kept_step,
                          n=n_train, epochs=epochs))
    if (rise := after["original"] - before["original"]) >= WORSE_BPC:
        key = f"char_lm.warning.forgot_{'little' if rise < 0.1 else 'much'}_{'rehearsed' if rehearsal else 'alone'}"
        warnings.append(t(key, before=before["original"], after=after["original"], rehearsal=rehearsal))
    return warnings
