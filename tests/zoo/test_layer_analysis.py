"""zoo.layers: layers found and grouped as the forward pass chains them, dead and saturated units where they are
known to be, histograms that count every value, a shared model left untouched, and every shipped torch checkpoint
analysed on its own family's batch."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm

from zoo import checkpoints, i18n
from zoo.layers.analysis import (BINS, analyse, analyse_checkpoint, evenly_spaced, nearest_neighbour_agreement,
                                 torch_checkpoints, tsne_map)
from zoo.layers.batches import NEXT_CHARACTER_KINDS, AnalysisBatch, next_character_kind, text_windows


class Known(nn.Module):
    """Hidden unit 2 never fires (its bias keeps it below zero on positive inputs); squashed unit 0 is tanh of a
    hundred times a positive sum, so it sits at +1; squashed unit 1 stays near 0."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        self.squash = nn.Sequential(nn.Linear(3, 2), nn.Tanh())
        self.head = spectral_norm(nn.Linear(2, 2))
        with torch.no_grad():
            self.hidden[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]))
            self.hidden[0].bias.copy_(torch.tensor([0.0, 0.0, -1.0]))
            self.squash[0].weight.copy_(torch.tensor([[100.0, 100.0, 0.0], [0.1, 0.0, 0.0]]))
            self.squash[0].bias.zero_()
            self.head.parametrizations.weight.original.mul_(100)  # stored large; used with spectral norm 1

    def forward(self, x):
        return self.head(self.squash(self.hidden(x)))


def _batch(n=64, seed=0) -> AnalysisBatch:
    x = torch.rand(n, 2, generator=torch.Generator().manual_seed(seed)) * 0.9 + 0.1  # in [0.1, 1]
    labels = (x[:, 0] > x[:, 1]).long().numpy()
    return AnalysisBatch((x,), labels, ("below", "above"), "points of the unit square")


def test_a_known_dead_unit_and_a_known_saturated_unit_are_reported():
    analysis = analyse(Known(), _batch())
    hidden, squash, head = analysis.layers
    assert (hidden.name, hidden.kind) == ("hidden.0", "Linear + ReLU")
    assert hidden.dead_share == pytest.approx(1 / 3) and hidden.saturated_share is None
    assert (squash.kind, squash.dead_share, squash.saturated_share) == ("Linear + Tanh", 0.0, 0.5)
    assert head.kind == "Linear (SpectralNorm)" and head.saturated_share is None
    assert [layer.units for layer in analysis.layers] == [3, 2, 2]


def test_weight_histograms_count_every_weight_and_activation_histograms_every_output():
    model = Known()
    analysis = analyse(model, _batch(n=50))
    for layer, module in zip(analysis.layers, (model.hidden[0], model.squash[0], model.head)):
        assert layer.weights.total == layer.parameters == sum(p.numel() for p in module.parameters())
        assert len(layer.weights.counts) == BINS and len(layer.weights.edges) == BINS + 1
        assert layer.activations.total == 50 * layer.units
    edges = analysis.layers[2].weights.edges  # the spectrally normalised weight, as the network uses it
    assert max(abs(edges[0]), abs(edges[-1])) <= 1.01


def test_the_shared_model_keeps_no_hook_and_no_change():
    model = Known().train()
    model.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    analyse(model, _batch())
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training and not any(p.requires_grad for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


class ResidualBlock(nn.Module):
    """A block whose ReLU is a function: its dead channel (bias -100) shows only at the block's output."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]])[:, :, None, None])
            self.conv.bias.copy_(torch.tensor([0.0, -100.0]))

    def forward(self, x):
        return F.relu(self.conv(x) + x)


class SharedActivation(nn.Module):
    """One ReLU module used after two layers, as the zoo's MLP does, then a block."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=1)])
        for layer in self.layers:  # positive in, positive out: no unit of theirs is dead
            nn.init.constant_(layer.weight, 0.1)
            nn.init.zeros_(layer.bias)
        self.act = nn.ReLU()
        self.block = ResidualBlock()

    def forward(self, x):
        for layer in self.layers:
            x = self.act(layer(x))
        return self.block(x)


def test_a_shared_activation_joins_each_layer_it_follows_and_a_block_output_is_a_layer():
    x = torch.rand(16, 1, 6, 6)
    analysis = analyse(SharedActivation(), AnalysisBatch((x,), np.zeros(16, int), ("all",), "noise"))
    assert [(layer.name, layer.kind) for layer in analysis.layers] == [
        ("layers.0", "Conv2d + ReLU"), ("layers.1", "Conv2d + ReLU"), ("block.conv", "Conv2d"),
        ("block", "ResidualBlock")]
    block = analysis.layers[-1]
    assert block.block and block.shown_kind == "output of ResidualBlock"
    with i18n.speaking("zh"):
        assert block.shown_kind == "ResidualBlock 的输出"
    assert block.parameters == 0 and block.weights is None and block.dead_share == 0.5  # channel 1 never fires
    assert block.components.shape == (16, 2)  # each input's two channel means


def test_tsne_of_a_layer_is_a_finite_map_of_every_input():
    layer = analyse(Known(), _batch())
    points = tsne_map(layer.layers[0])
    assert points.shape == (64, 2) and np.isfinite(points).all()


def test_nearest_neighbours_agree_on_separated_classes_and_not_on_interleaved_ones():
    two_groups = np.r_[np.arange(5.0), np.arange(10.0, 15.0)][:, None]
    assert nearest_neighbour_agreement(two_groups, (np.arange(10) >= 5).astype(int)) == 1.0
    assert nearest_neighbour_agreement(np.arange(10.0)[:, None], np.arange(10) % 2) == 0.0


def test_evenly_spaced_layers_run_from_the_first_to_the_last():
    assert evenly_spaced(10, 4) == [0, 3, 6, 9] and evenly_spaced(3, 6) == [0, 1, 2] and evenly_spaced(5, 1) == [4]


def test_text_windows_are_coloured_by_the_character_after_them():
    chars = "Ab c, De f." * 20
    ids = torch.arange(len(chars))
    batch = text_windows(ids, chars, size=8, window=5)
    (windows,) = batch.inputs
    assert windows.shape == (8, 5) and batch.sequence
    for row, label in zip(windows, batch.labels):
        start = int(row[0])
        assert label == next_character_kind(chars[start + 5])
    kinds = [NEXT_CHARACTER_KINDS[next_character_kind(c)] for c in "aZ \n,7"]
    assert kinds == ["lowercase letter", "capital letter", "space or line break", "space or line break",
                     "punctuation or digit", "punctuation or digit"]
    assert batch.classes == NEXT_CHARACTER_KINDS and batch.description.startswith("8 windows of 5 characters")
    with i18n.speaking("ru"):
        batch = text_windows(ids, chars, size=8, window=5)
    assert batch.classes[0] == "строчная буква" and batch.description.startswith("Окна по 5 символов")


def test_only_torch_checkpoints_are_analysed():
    names = torch_checkpoints()
    assert "word2vec-text" not in names and "cnn-fashion" in names


@pytest.mark.parametrize("name", torch_checkpoints())
def test_every_shipped_torch_checkpoint_is_analysed_on_its_own_batch(name):
    model, _ = checkpoints.load(name, "cpu")
    model.requires_grad_(False)
    analysis = analyse_checkpoint(name, model, size=24)
    assert analysis.layers and analysis.description
    mapped = [layer for layer in analysis.layers if layer.components is not None]
    assert mapped, "at least one layer has a map"
    for layer in mapped:
        assert layer.components.shape[0] == len(analysis.labels) and layer.components.shape[1] >= 2
        assert np.isfinite(layer.components).all()
    assert set(np.unique(analysis.labels)) <= set(range(len(analysis.classes)))
    assert all(not m._forward_hooks for m in model.modules())
