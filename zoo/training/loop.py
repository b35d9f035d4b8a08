"""The one training loop every recipe shares: a generator of per-step metrics.

The CLI consumes it with a progress bar; the app's job runner consumes it in a worker
process, where it stops early when the job nears its time limit (`zoo.jobs.deadline`).
The model's objective lives on the model (`model.loss(*batch)`).
"""
from __future__ import annotations

from typing import Callable, Iterator

import torch

from zoo import devices
from zoo.jobs import deadline


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float = 0.0,
                   steps: int | None = None, schedule: str = "constant"
                   ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """AdamW, with a one-cycle schedule over `steps` or a constant learning rate."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    if schedule == "onecycle":
        if not steps:
            raise ValueError("a one-cycle schedule needs the number of steps")
        return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    if schedule != "constant":
        raise ValueError(f"unknown schedule {schedule!r}")
    return optimizer, None


def resume(state: dict, seed: int, **parts) -> int:
    """The step a recipe's `fit` starts from: a saved `state`'s, with every named part (the model,
    its optimisers, the schedule: anything with a state dict) and the random state restored; or 0,
    with the random seed set, for a fresh run."""
    start = state.get("step", 0)
    if start:
        for name, part in parts.items():
            part.load_state_dict(state[name])
        torch.set_rng_state(state["rng"])
    else:
        torch.manual_seed(seed)
    return start


def remember(state: dict, step: int, **parts) -> None:
    """Record in `state` everything `resume` needs to go on after `step`."""
    state.update(step=step, rng=torch.get_rng_state(), **{name: part.state_dict() for name, part in parts.items()})


def set_train_mode(model: torch.nn.Module, freeze_norm: bool = False) -> None:
    """Training mode, optionally with batch-norm layers kept in eval mode."""
    model.train()
    if freeze_norm:
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                module.eval()


def train_steps(model: torch.nn.Module, batches: Iterator[tuple[torch.Tensor, ...]],
                optimizer: torch.optim.Optimizer, steps: int, *,
                scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
                start_step: int = 0, transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                freeze_norm: bool = False, bf16_on_cpu: bool = False, may_stop_early: bool = True,
                **loss_kwargs) -> Iterator[dict[str, float]]:
    """Run optimisation steps `start_step+1 .. steps`, yielding {step, loss, lr} after each.

    In a job near its time limit it stops after the step whose event carries the note
    (`zoo.jobs.deadline.STOPPED_EARLY`; `is_last` tells the consumer), unless `may_stop_early` is
    False: a run whose result means nothing unless it trains to the end (one of many in a comparison).

    `model.loss` returns the loss, or a dict of scalar terms with the loss under "loss" (every
    term is then reported, e.g. a VAE's reconstruction and KL).

    `transform` (e.g. augmentation) applies to the first tensor of each batch on the device.
    `freeze_norm` keeps batch-norm statistics fixed, as fine-tuning on a few images needs.
    The loss runs under bfloat16 autocast on a GPU, and on the CPU too with `bf16_on_cpu` where the CPU
    computes bfloat16 itself (`zoo.devices.autocasts_to_bf16`: about twice as fast there, far slower elsewhere).
    """
    device = next(model.parameters()).device
    use_amp = devices.autocasts_to_bf16(device, bf16_on_cpu)
    for step in range(start_step + 1, steps + 1):
        set_train_mode(model, freeze_norm)  # again each step: the consumer may evaluate in between
        x, *rest = (t.to(device, non_blocking=True) for t in next(batches))
        if transform is not None:
            x = transform(x)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            terms = model.loss(x, *rest, **loss_kwargs)
        loss, terms = (terms["loss"], terms) if isinstance(terms, dict) else (terms, {"loss": terms})
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        event = {"step": step, **{key: value.item() for key, value in terms.items()},
                 "lr": optimizer.param_groups[0]["lr"]}
        stopping = may_stop_early and deadline.wrap_up(event, step, steps)
        yield event
        if stopping:
            break
    model.eval()


def is_last(event: dict, steps: int) -> bool:
    """Whether a training loop's `event` is its last: step `steps`, or the step it stopped early at."""
    return event["step"] == steps or deadline.STOPPED_EARLY in event


def clip_gradients(optimizer: torch.optim.Optimizer, max_norm: float | None) -> None:
    """Clip the global gradient norm to `max_norm` before every step of `optimizer` (None: never),
    so the shared training loop stays the same for every model."""
    if max_norm:
        params = [p for group in optimizer.param_groups for p in group["params"]]

        def clip(*_) -> None:
            torch.nn.utils.clip_grad_norm_(params, max_norm)

        optimizer.register_step_pre_hook(clip)
