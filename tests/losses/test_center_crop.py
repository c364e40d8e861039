"""CenterCropLoss: the wrapped loss sees only the centre of input, target and weight; the margin gets no gradient."""

import pytest
import torch
from monai.losses import DiceCELoss

from custom_networks.losses import BootstrappedWeightedCELoss, CenterCropLoss, TanimotoLoss


def test_equals_loss_on_cropped_patch_2d_and_3d():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 10, 12, 8, generator=g)
    labels = torch.randint(0, 3, (2, 1, 10, 12, 8), generator=g)
    weight = torch.rand(2, 1, 10, 12, 8, generator=g)
    inner = BootstrappedWeightedCELoss()
    expected = inner(logits[..., 2:8, 1:11, 3:5], labels[..., 2:8, 1:11, 3:5], weight=weight[..., 2:8, 1:11, 3:5])
    torch.testing.assert_close(CenterCropLoss(inner, margin=(2, 1, 3))(logits, labels, weight=weight), expected)
    # 2-D, one margin for all sides, a MONAI loss without weight
    dice_ce = DiceCELoss(softmax=True, to_onehot_y=True)
    logits_2d, labels_2d = logits[..., 0], labels[..., 0]
    torch.testing.assert_close(
        CenterCropLoss(dice_ce, margin=2)(logits_2d, labels_2d),
        dice_ce(logits_2d[..., 2:8, 2:10], labels_2d[..., 2:8, 2:10]),
    )
    assert CenterCropLoss(dice_ce, margin=0)(logits_2d, labels_2d) == dice_ce(logits_2d, labels_2d)


def test_margin_gets_no_gradient():
    logits = torch.randn(1, 2, 9, 9, requires_grad=True)
    target = torch.randint(0, 2, (1, 2, 9, 9)).float()
    weight = torch.rand(1, 1, 9, 9)
    CenterCropLoss(TanimotoLoss(softmax=True), margin=3)(logits, target, weight=weight).backward()
    inside = torch.zeros(9, 9, dtype=torch.bool)
    inside[3:6, 3:6] = True
    assert torch.all(logits.grad[..., ~inside] == 0)
    assert torch.all(logits.grad[..., inside].abs().sum(0) > 0)


def test_margin_too_large():
    with pytest.raises(ValueError, match="margin"):
        CenterCropLoss(TanimotoLoss(), margin=(1, 4))(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8))
