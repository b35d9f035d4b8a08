"""What the fine-tuning jobs share, so that a default run on a person's small data helps and says
when it does not: the best weights on a validation piece (early stopping) and rehearsal, batches
that mix the original training data with the person's, so the model keeps what it knew."""
from __future__ import annotations

import copy
from typing import Iterator

import torch

from zoo.i18n import t


class BestWeights:
    """The weights of the best-scoring evaluation so far (the model as it was counts as step 0),
    and when to stop: after `patience` evaluations in a row found nothing better (None: never)."""

    def __init__(self, model: torch.nn.Module, score: float, patience: int | None = None):
        self.model = model
        self.patience = patience
        self.best_score, self.best_step = score, 0
        self._state = copy.deepcopy(model.state_dict())
        self._stale = 0

    def update(self, step: int, score: float) -> bool:
        """Record the model's `score` (higher is better) at `step`; True when it is the best so far."""
        if score > self.best_score:
            self.best_score, self.best_step, self._stale = score, step, 0
            self._state = copy.deepcopy(self.model.state_dict())
            return True
        self._stale += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self._stale >= self.patience

    def restore(self) -> None:
        """Put the best weights back into the model."""
        self.model.load_state_dict(self._state)

    def summary(self, last_step: int, steps: int, piece: str) -> str:
        """What a run kept and why, for the person, in their language: `piece` names what chose the weights, already
        translated, as it reads after "on" (en "the 1,000 validation images"; zh "1,000 张验证图像", read inside
        "在…上"; ru in the prepositional case after "на": "1 000 валидационных изображениях")."""
        which = "unchanged" if self.best_step == 0 else "kept"
        stopped = "_stopped" if last_step < steps else ""
        return t(f"image_classifier.summary.{which}{stopped}", piece=piece, step=self.best_step, last_step=last_step,
                 steps=steps, patience=self.patience)


def mixed_batches(own: Iterator[tuple[torch.Tensor, ...]], rehearsed: Iterator[tuple[torch.Tensor, ...]] | None
                  ) -> Iterator[tuple[torch.Tensor, ...]]:
    """Each batch of `own` with a batch of `rehearsed` appended row-wise, in `own`'s dtypes (`own` alone when None)."""
    if rehearsed is None:
        yield from own
        return
    for mine, original in zip(own, rehearsed):
        yield tuple(torch.cat([a, b.to(a.dtype)]) for a, b in zip(mine, original))


def rehearsal_rows(batch_size: int, share: float) -> tuple[int, int]:
    """How many of `batch_size` rows are the person's and how many the original data's (at least one each
    when `share` is strictly between 0 and 1)."""
    if not 0 <= share < 1:
        raise ValueError(f"the rehearsal share must be in [0, 1), not {share}")
    original = min(batch_size - 1, max(1 if share > 0 else 0, round(batch_size * share)))
    return batch_size - original, original
