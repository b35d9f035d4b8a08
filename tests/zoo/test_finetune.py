"""zoo.training.finetune: the best weights on a validation piece, when to stop, and rehearsal batches."""
import pytest
import torch

from zoo import i18n
from zoo.training.finetune import BestWeights, mixed_batches, rehearsal_rows


def test_best_weights_keep_the_best_step_and_put_it_back():
    model = torch.nn.Linear(2, 1)
    shipped = model.weight.detach().clone()
    best = BestWeights(model, score=-1.0, patience=2)
    with torch.no_grad():
        model.weight.add_(1.0)
    assert best.update(10, -0.5) and best.best_step == 10
    kept = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not best.update(20, -0.7) and not best.should_stop
    assert not best.update(30, -0.5) and best.should_stop  # a tie is no improvement
    best.restore()
    assert torch.equal(model.weight, kept) and not torch.equal(kept, shipped)
    assert best.summary(30, 100, "the validation piece") == (
        "The weights kept are those of step 10, the best on the validation piece; the run stopped at step 30 of 100, "
        "after 2 measurements in a row found nothing better.")


def test_when_nothing_beats_the_shipped_model_its_weights_are_kept():
    model = torch.nn.Linear(2, 1)
    shipped = model.weight.detach().clone()
    best = BestWeights(model, score=0.0)
    with torch.no_grad():
        model.weight.add_(1.0)
    for step in range(1, 50):
        best.update(step, -step)
    assert not best.should_stop  # no patience: it never stops early
    best.restore()
    assert torch.equal(model.weight, shipped) and best.best_step == 0
    assert best.summary(49, 49, "your images").startswith("No step did better on your images than the shipped model")
    with i18n.speaking("ru"):
        assert best.summary(20, 49, "ваших изображениях").startswith(
            "Ни один шаг не оказался на ваших изображениях лучше исходной модели")
    with i18n.speaking("zh"):
        assert best.summary(49, 49, "你的图像") == "在你的图像上，没有任何一步比原始模型更好，所以它的权重保持不变。"


def test_rehearsal_mixes_rows_of_both_sources():
    own = iter([(torch.zeros(4, 3), torch.zeros(4))] * 2)
    original = iter([(torch.ones(12, 3), torch.ones(12, dtype=torch.int16))] * 2)
    x, y = next(mixed_batches(own, original))
    assert x.shape == (16, 3) and y.tolist() == [0] * 4 + [1] * 12 and y.dtype == torch.float32  # own's dtype
    alone = (torch.zeros(4, 3), torch.zeros(4))
    assert next(mixed_batches(iter([alone]), None)) is alone


@pytest.mark.parametrize("batch, share, rows", [(16, 0.75, (4, 12)), (64, 0.5, (32, 32)), (16, 0.0, (16, 0)),
                                                (4, 0.01, (3, 1)), (4, 0.99, (1, 3))])
def test_rehearsal_rows_leave_room_for_both(batch, share, rows):
    assert rehearsal_rows(batch, share) == rows


def test_a_rehearsal_share_of_one_is_refused():
    with pytest.raises(ValueError, match="rehearsal share"):
        rehearsal_rows(16, 1.0)
