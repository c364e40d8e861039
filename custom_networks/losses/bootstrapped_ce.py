"""Class-weighted cross-entropy with fuzzy-boundary weights and bootstrapping, the noisy-label loss of MS U-Net."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from monai.utils import LossReduction
from torch.nn.modules.loss import _Loss

from custom_networks.losses.reduction import reduce_loss

__all__ = ["BootstrappedWeightedCELoss", "inverse_count_weights", "inverse_frequency_weights"]


def inverse_frequency_weights(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """
    Class weights inversely proportional to the classes' pixel counts in ``labels`` (integer class indices):
    w_c = N / (K · N_c) with N the number of pixels and K the number of classes present, so that the mean weight
    over the pixels is 1 (1:10 background to foreground pixels give weights 0.55 and 5.5). Absent classes get 0.

    Args:
        labels: tensor of class indices, any shape.
        num_classes: number of classes, the length of the returned weights.
    """
    return inverse_count_weights(torch.bincount(labels.flatten().long(), minlength=num_classes))


def inverse_count_weights(counts: torch.Tensor) -> torch.Tensor:
    """:func:`inverse_frequency_weights` from the classes' pixel counts (e.g. summed over a dataset)."""
    counts = counts.double()
    present = counts > 0
    weights = torch.zeros_like(counts)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights


class BootstrappedWeightedCELoss(_Loss):
    """
    The noisy-label loss of MS U-Net, per pixel

        l = w_c[t] · CE(x, t) · w_fb + 1[bootstrap] · w_bs · CE(x, ŷ),

    a class-weighted cross-entropy against the target t (class weights given, or the inverse pixel ratio of the
    batch's target, see :py:func:`inverse_frequency_weights`), multiplied by an optional per-pixel weight map
    ``weight`` (the fuzzy-boundary map w_fb of :py:class:`custom_networks.transforms.FuzzyBoundaryWeightsd`),
    plus, while ``bootstrap`` is True, a cross-entropy against the network's own detached prediction ŷ, weighted
    by its confidence w_bs = 2·|0.5 − p| (binary), generalised to (N·max_c p_c − 1) / (N − 1) for N classes
    (the same for N = 2, 0 for a uniform and 1 for a certain prediction). The bootstrap term has no class weights.
    ``bootstrap`` is a plain attribute, switched on after the first epochs by
    :py:class:`custom_networks.handlers.BootstrapSwitch`.

    The input is logits ``BNH[WD]`` (softmax over the channels; one channel means binary logits, sigmoid);
    the target is class indices ``B1H[WD]`` or one-hot ``BNH[WD]``.

    Kurian, Lohan et al., "Deep Multi-Scale U-Net Architecture and Label-Noise Robust Training Strategies for
    Histopathological Image Segmentation", Sections III-C and III-D, Eqs. (1)-(4).

    Args:
        class_weight: fixed weight of each class (length N, 2 for one-channel binary logits); None computes the
            inverse pixel ratio of each batch's target.
        bootstrap: whether the bootstrapping term is active.
        hard_bootstrap: if True, ŷ is the predicted class (argmax), the "auxiliary mask" of the paper; if False,
            the soft prediction (the term becomes the entropy of the prediction).
        reduction: {``"none"``, ``"mean"``, ``"sum"``} over the pixels; ``"none"`` returns the ``B1H[WD]`` map.
    """

    def __init__(
        self,
        class_weight: Sequence[float] | torch.Tensor | None = None,
        bootstrap: bool = False,
        hard_bootstrap: bool = True,
        reduction: LossReduction | str = LossReduction.MEAN,
    ) -> None:
        super().__init__(reduction=LossReduction(reduction).value)
        self.register_buffer("class_weight", None if class_weight is None else torch.as_tensor(class_weight))
        self.class_weight: torch.Tensor | None
        self.bootstrap = bootstrap
        self.hard_bootstrap = hard_bootstrap

    def forward(self, input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """
        Args:
            input: logits ``BNH[WD]``.
            target: class indices ``B1H[WD]`` or one-hot ``BNH[WD]``.
            weight: optional per-pixel weight map ``B1H[WD]`` multiplying the class-weighted cross-entropy.

        Raises:
            ValueError: When the target, the weight or ``class_weight`` does not match the input.
        """
        if input.shape[1] == 1:  # binary logits x: sigmoid(x) = softmax([0, x])[1]
            input = torch.cat([torch.zeros_like(input), input], dim=1)
        num_classes = input.shape[1]
        spatial_shape = input.shape[:1] + input.shape[2:]
        if target.shape[:1] + target.shape[2:] != spatial_shape or target.shape[1] not in (1, num_classes):
            raise ValueError(f"ground truth of shape {target.shape} does not match input of shape {input.shape}.")
        if weight is not None and (weight.shape[:1] + weight.shape[2:] != spatial_shape or weight.shape[1] != 1):
            raise ValueError(f"weight of shape {weight.shape} does not match input of shape {input.shape}.")
        labels = (target.argmax(1, keepdim=True) if target.shape[1] > 1 else target).long()

        if self.class_weight is None:
            class_weight = inverse_frequency_weights(labels, num_classes)
        elif self.class_weight.numel() == num_classes:
            class_weight = self.class_weight
        else:
            raise ValueError(f"class_weight has {self.class_weight.numel()} values for {num_classes} classes.")

        log_p = F.log_softmax(input, dim=1)
        f = -log_p.gather(1, labels) * class_weight.to(log_p)[labels]
        if weight is not None:
            f = f * weight
        if self.bootstrap:
            p = log_p.detach().exp()
            confidence, prediction = p.max(dim=1, keepdim=True)
            w_bs = (num_classes * confidence - 1) / (num_classes - 1)
            l_bs = -log_p.gather(1, prediction) if self.hard_bootstrap else -(p * log_p).sum(1, keepdim=True)
            f = f + w_bs * l_bs

        return reduce_loss(f, self.reduction)
