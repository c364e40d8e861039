"""TanimotoLoss: hand-computed values, the reductions, the MONAI-style options, the weight map and gradients."""

import pytest
import torch
from monai.networks import one_hot

from custom_networks.losses import TanimotoLoss


def _random_pair(shape: tuple[int, ...], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(torch.randn(shape, generator=g, dtype=torch.float64), dim=1)
    labels = torch.randint(0, shape[1], (shape[0], 1, *shape[2:]), generator=g)
    return probs, one_hot(labels, num_classes=shape[1], dtype=torch.float64)


@pytest.mark.parametrize("shape", [(2, 1, 5, 6), (2, 3, 5, 6), (2, 1, 3, 4, 5), (2, 3, 3, 4, 5)])
@pytest.mark.parametrize("batch, per_class", [(True, False), (False, True)])
def test_identical_maps_give_zero(shape, batch, per_class):
    probs, onehot = _random_pair(shape)
    loss = TanimotoLoss(batch=batch, per_class=per_class)
    assert loss(onehot, onehot).item() == pytest.approx(0.0, abs=1e-12)
    assert loss(probs, probs).item() == pytest.approx(0.0, abs=1e-12)  # soft maps too
    weight = torch.rand(shape[0], 1, *shape[2:], dtype=torch.float64)
    assert loss(probs, probs, weight=weight).item() == pytest.approx(0.0, abs=1e-12)


def test_hand_computed():
    # p = (0.5, 1), t = (1, 0), s = 1: T(p, t) = 1.5 / 2.75 = 6/11, T(1-p, 1-t) = 1 / 2.25 = 4/9, loss = 50/99
    p = torch.tensor([0.5, 1.0]).view(1, 1, 1, 2)
    t = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)
    assert TanimotoLoss()(p, t).item() == pytest.approx(50 / 99)
    # weights (2, 1): T(p, t) = (1 + 1) / (1.5 + 1 + 1) = 4/7, T(1-p, 1-t) = 1 / (0.5 + 1 + 1) = 2/5, loss = 18/35
    w = torch.tensor([2.0, 1.0]).view(1, 1, 1, 2)
    assert TanimotoLoss()(p, t, weight=w).item() == pytest.approx(18 / 35)
    assert TanimotoLoss(smooth=0.0)(p, t).item() == pytest.approx(1 - (0.5 / 1.75 + 0 / 1.25) / 2)


@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (3, 2, 3, 4, 5)])
def test_reduction_granularity(shape):
    probs, onehot = _random_pair(shape, seed=1)
    b, c, spatial = shape[0], shape[1], (1,) * (len(shape) - 2)
    expected_shapes = {(True, False): (1, 1), (False, False): (b, 1), (True, True): (1, c), (False, True): (b, c)}
    for (batch, per_class), lead in expected_shapes.items():
        per_group = TanimotoLoss(batch=batch, per_class=per_class, reduction="none")(probs, onehot)
        assert per_group.shape == (*lead, *spatial)
        mean = TanimotoLoss(batch=batch, per_class=per_class)(probs, onehot)
        total = TanimotoLoss(batch=batch, per_class=per_class, reduction="sum")(probs, onehot)
        torch.testing.assert_close(mean, per_group.mean())
        torch.testing.assert_close(total, per_group.sum())
    # one coefficient per sample and class equals the global loss of each (sample, class) alone
    per_item = TanimotoLoss(batch=False, per_class=True, reduction="none")(probs, onehot)
    for i in range(b):
        for k in range(c):
            alone = TanimotoLoss()(probs[i : i + 1, k : k + 1], onehot[i : i + 1, k : k + 1])
            torch.testing.assert_close(per_item[i, k].flatten()[0], alone)


def test_activation_and_onehot_options():
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 3, 6, 5, generator=g)
    labels = torch.randint(0, 3, (2, 1, 6, 5), generator=g)
    expected = TanimotoLoss()(torch.softmax(logits, 1), one_hot(labels, 3))
    torch.testing.assert_close(TanimotoLoss(softmax=True, to_onehot_y=True)(logits, labels), expected)
    binary = (labels > 0).float()[:, :1]
    torch.testing.assert_close(
        TanimotoLoss(sigmoid=True)(logits[:, :1], binary), TanimotoLoss()(torch.sigmoid(logits[:, :1]), binary)
    )
    torch.testing.assert_close(
        TanimotoLoss(other_act=torch.sigmoid)(logits[:, :1], binary), TanimotoLoss(sigmoid=True)(logits[:, :1], binary)
    )
    with pytest.raises(ValueError):
        TanimotoLoss(sigmoid=True, softmax=True)
    with pytest.raises(TypeError):
        TanimotoLoss(other_act="sigmoid")


def test_include_background_and_weight_channels():
    probs, onehot = _random_pair((2, 3, 4, 7), seed=3)
    pixel_weight = torch.rand(2, 1, 4, 7, dtype=torch.float64)
    class_pixel_weight = torch.rand(2, 3, 4, 7, dtype=torch.float64)
    no_bg = TanimotoLoss(include_background=False)
    torch.testing.assert_close(no_bg(probs, onehot), TanimotoLoss()(probs[:, 1:], onehot[:, 1:]))
    torch.testing.assert_close(
        no_bg(probs, onehot, weight=class_pixel_weight),
        TanimotoLoss()(probs[:, 1:], onehot[:, 1:], weight=class_pixel_weight[:, 1:]),
    )
    # a one-channel map is shared by the classes; a map of ones is no weighting
    loss = TanimotoLoss(per_class=True, batch=False)
    torch.testing.assert_close(
        loss(probs, onehot, weight=pixel_weight), loss(probs, onehot, weight=pixel_weight.expand(-1, 3, -1, -1))
    )
    torch.testing.assert_close(loss(probs, onehot, weight=torch.ones_like(pixel_weight)), loss(probs, onehot))
    assert not torch.allclose(loss(probs, onehot, weight=pixel_weight), loss(probs, onehot))


def test_shape_errors():
    probs, onehot = _random_pair((2, 3, 4, 4))
    with pytest.raises(ValueError, match="ground truth"):
        TanimotoLoss()(probs, onehot[:, :2])
    with pytest.raises(ValueError, match="weight"):
        TanimotoLoss()(probs, onehot, weight=torch.ones(2, 2, 4, 4))
    with pytest.raises(ValueError, match="weight"):
        TanimotoLoss()(probs, onehot, weight=torch.ones(2, 1, 4, 5))


@pytest.mark.parametrize("shape, weighted", [((2, 1, 3, 4), True), ((1, 3, 3, 3, 2), False), ((2, 2, 3, 4), True)])
def test_gradcheck(shape, weighted):
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(shape, generator=g, dtype=torch.float64, requires_grad=True)
    target = (torch.rand(shape, generator=g, dtype=torch.float64) > 0.5).double()
    weight = torch.rand(shape[0], 1, *shape[2:], generator=g, dtype=torch.float64) + 0.5 if weighted else None
    loss = TanimotoLoss(sigmoid=shape[1] == 1, softmax=shape[1] > 1, batch=False, per_class=True)
    assert torch.autograd.gradcheck(lambda x: loss(x, target, weight=weight), (logits,))
