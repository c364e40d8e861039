"""BootstrappedWeightedCELoss and inverse_frequency_weights: values against torch's CE and by hand, gradients."""

import math

import pytest
import torch
import torch.nn.functional as F
from monai.networks import one_hot

from custom_networks.losses import BootstrappedWeightedCELoss, inverse_frequency_weights


def _logits_and_labels(shape: tuple[int, ...], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(shape, generator=g, dtype=torch.float64)
    labels = torch.randint(0, max(shape[1], 2), (shape[0], 1, *shape[2:]), generator=g)
    return logits, labels


def test_inverse_frequency_weights():
    labels = torch.tensor([0] * 10 + [1])  # 1:10 foreground to background
    torch.testing.assert_close(inverse_frequency_weights(labels, 2), torch.tensor([0.55, 5.5], dtype=torch.float64))
    labels = torch.tensor([[0, 0, 3], [3, 3, 3]])  # classes 1, 2 absent
    weights = inverse_frequency_weights(labels, 4)
    assert weights[1] == weights[2] == 0
    assert weights[labels].mean().item() == pytest.approx(1.0)


@pytest.mark.parametrize("shape", [(2, 3, 5, 6), (2, 2, 3, 4, 5), (2, 4, 3, 3, 3)])
def test_plain_and_class_weighted_ce_match_torch(shape):
    logits, labels = _logits_and_labels(shape)
    expected = F.cross_entropy(logits, labels[:, 0])
    ones = BootstrappedWeightedCELoss(class_weight=[1.0] * shape[1])
    torch.testing.assert_close(ones(logits, labels), expected)
    torch.testing.assert_close(ones(logits, one_hot(labels, shape[1])), expected)  # one-hot target
    # batch class weights have mean 1 over the pixels, so the plain mean equals torch's weighted mean
    weights = inverse_frequency_weights(labels, shape[1])
    torch.testing.assert_close(
        BootstrappedWeightedCELoss()(logits, labels), F.cross_entropy(logits, labels[:, 0], weight=weights)
    )
    fixed = torch.arange(1.0, shape[1] + 1)
    torch.testing.assert_close(
        BootstrappedWeightedCELoss(class_weight=fixed, reduction="sum")(logits, labels),
        F.cross_entropy(logits, labels[:, 0], weight=fixed.double(), reduction="sum"),
    )


def test_hand_computed_binary():
    # binary logits (0, ln 3): p_fg = (0.5, 0.75); targets (1, 0); one pixel per class, so class weights (1, 1)
    logits = torch.tensor([0.0, math.log(3.0)]).view(1, 1, 1, 2)
    target = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)
    fuzzy = torch.tensor([0.5, 1.0]).view(1, 1, 1, 2)
    loss = BootstrappedWeightedCELoss(reduction="sum")
    assert loss(logits, target).item() == pytest.approx(math.log(2) + math.log(4))
    assert loss(logits, target, weight=fuzzy).item() == pytest.approx(0.5 * math.log(2) + math.log(4))
    # bootstrapping: w_bs = 2|0.5 - p| = (0, 0.5); the second pixel is predicted foreground with p = 0.75
    loss.bootstrap = True
    expected = 0.5 * math.log(2) + math.log(4) - 0.5 * math.log(0.75)
    assert loss(logits, target, weight=fuzzy).item() == pytest.approx(expected)
    # the same with two-channel logits (0, x), whose softmax is the sigmoid of x
    two_channel = torch.cat([torch.zeros_like(logits), logits], dim=1)
    assert loss(two_channel, target, weight=fuzzy).item() == pytest.approx(expected)


@pytest.mark.parametrize("num_classes", [2, 3, 5])
def test_bootstrap_weight(num_classes):
    labels = torch.zeros(1, 1, 2, 2, dtype=torch.long)
    uniform = torch.zeros(1, num_classes, 2, 2)
    loss = BootstrappedWeightedCELoss(bootstrap=True)
    # an undecided prediction gets no bootstrap weight
    assert loss(uniform, labels).item() == pytest.approx(math.log(num_classes))
    if num_classes == 2:  # w_bs = 2|0.5 - p| in the binary case
        logits = torch.tensor([0.0, 1.2]).view(1, 2, 1, 1)
        p = torch.sigmoid(torch.tensor(1.2)).item()
        expected = -math.log(1 - p) + 2 * abs(0.5 - p) * -math.log(p)
        assert loss(logits, labels[..., :1, :1]).item() == pytest.approx(expected)


def test_soft_bootstrap_is_confidence_weighted_entropy():
    logits, labels = _logits_and_labels((2, 3, 4, 4), seed=5)
    base = BootstrappedWeightedCELoss(reduction="none")(logits, labels)
    soft = BootstrappedWeightedCELoss(bootstrap=True, hard_bootstrap=False, reduction="none")(logits, labels)
    p = torch.softmax(logits, 1)
    entropy = -(p * p.log()).sum(1, keepdim=True)
    w_bs = (3 * p.amax(1, keepdim=True) - 1) / 2
    torch.testing.assert_close(soft, base + w_bs * entropy)


@pytest.mark.parametrize("shape", [(2, 2, 3, 4), (1, 3, 2, 3, 2), (2, 1, 3, 3)])
def test_gradcheck_without_bootstrap(shape):
    logits, labels = _logits_and_labels(shape, seed=6)
    logits.requires_grad_(True)
    fuzzy = torch.rand(shape[0], 1, *shape[2:], dtype=torch.float64)
    loss = BootstrappedWeightedCELoss()
    assert torch.autograd.gradcheck(lambda x: loss(x, labels, weight=fuzzy), (logits,))


def test_bootstrap_gradient_treats_prediction_as_constant():
    # d/dx [CE(x, t) + w_bs · CE(x, ŷ)] = (p - t) + w_bs · (p - ŷ), with ŷ and w_bs detached
    logits, labels = _logits_and_labels((2, 3, 4, 5), seed=7)
    logits.requires_grad_(True)
    loss = BootstrappedWeightedCELoss(class_weight=[1.0, 1.0, 1.0], bootstrap=True, reduction="sum")
    (grad,) = torch.autograd.grad(loss(logits, labels), logits)
    p = torch.softmax(logits.detach(), 1)
    w_bs = (3 * p.amax(1, keepdim=True) - 1) / 2
    expected = p - one_hot(labels, 3, dtype=p.dtype) + w_bs * (p - one_hot(p.argmax(1, keepdim=True), 3, p.dtype))
    torch.testing.assert_close(grad, expected)


def test_reduction_and_errors():
    logits, labels = _logits_and_labels((2, 3, 4, 5), seed=8)
    per_pixel = BootstrappedWeightedCELoss(reduction="none")(logits, labels)
    assert per_pixel.shape == (2, 1, 4, 5)
    torch.testing.assert_close(BootstrappedWeightedCELoss()(logits, labels), per_pixel.mean())
    with pytest.raises(ValueError, match="class_weight"):
        BootstrappedWeightedCELoss(class_weight=[1.0, 2.0])(logits, labels)
    with pytest.raises(ValueError, match="weight"):
        BootstrappedWeightedCELoss()(logits, labels, weight=torch.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="ground truth"):
        BootstrappedWeightedCELoss()(logits, labels[..., :4])
