"""Tanimoto loss with complement, the loss of Res-CR-Net."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch
from monai.networks import one_hot
from monai.utils import LossReduction
from torch.nn.modules.loss import _Loss

from custom_networks.losses.reduction import reduce_loss

__all__ = ["TanimotoLoss"]


class TanimotoLoss(_Loss):
    """
    Weighted Tanimoto loss with complement: with T(p, t) = (Σ w·t·p + s) / (Σ w·(t² + p² − t·p) + s),
    the loss is 1 − (T(p, t) + T(1 − p, 1 − t)) / 2. Identical prediction and target give 0.

    By default the sums run over the batch, the space and the classes at once (one coefficient per batch) and
    s = 1, as in the authors' code; ``batch=False`` gives one coefficient per sample, ``per_class=True`` one per
    class, both then reduced by ``reduction``. Works for 2-D and 3-D, binary and multi-class inputs
    (``BNH[WD]``); the target is ``BNH[WD]`` (one-hot) or ``B1H[WD]`` with ``to_onehot_y=True``.

    Abdallah et al., "Res-CR-Net, a residual network with a novel architecture optimized for the semantic
    segmentation of microscopy images", Mach. Learn.: Sci. Technol. 1, 045004 (2020),
    https://doi.org/10.1088/2632-2153/aba8e8; the coefficient is from Diakogiannis et al., "ResUNet-a: a deep
    learning framework for semantic segmentation of remotely sensed data", arXiv:1904.00592.

    Args:
        include_background: if False, channel 0 (background) is excluded from the sums.
        to_onehot_y: whether to convert the ``target`` into one-hot with ``input.shape[1]`` classes.
        sigmoid: if True, apply a sigmoid to the prediction.
        softmax: if True, apply a softmax over the channels to the prediction.
        other_act: another activation to apply to the prediction, e.g. ``torch.tanh``.
        smooth: the smoothing constant s added to the numerator and the denominator.
        batch: whether to sum over the batch before dividing (one coefficient for the whole batch).
        per_class: whether to keep one coefficient per class instead of summing over the classes.
        reduction: {``"none"``, ``"mean"``, ``"sum"``} applied to the coefficients' losses; ``"none"`` returns
            them in a shape broadcastable to the input (``(B or 1, N or 1, 1, ...)``).

    Raises:
        TypeError: When ``other_act`` is not an ``Optional[Callable]``.
        ValueError: When more than 1 of [``sigmoid=True``, ``softmax=True``, ``other_act is not None``].
    """

    def __init__(
        self,
        include_background: bool = True,
        to_onehot_y: bool = False,
        sigmoid: bool = False,
        softmax: bool = False,
        other_act: Callable | None = None,
        smooth: float = 1.0,
        batch: bool = True,
        per_class: bool = False,
        reduction: LossReduction | str = LossReduction.MEAN,
    ) -> None:
        super().__init__(reduction=LossReduction(reduction).value)
        if other_act is not None and not callable(other_act):
            raise TypeError(f"other_act must be None or callable but is {type(other_act).__name__}.")
        if int(sigmoid) + int(softmax) + int(other_act is not None) > 1:
            raise ValueError("Incompatible values: more than 1 of [sigmoid=True, softmax=True, other_act is not None].")
        self.include_background = include_background
        self.to_onehot_y = to_onehot_y
        self.sigmoid = sigmoid
        self.softmax = softmax
        self.other_act = other_act
        self.smooth = float(smooth)
        self.batch = batch
        self.per_class = per_class

    def forward(self, input: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        """
        Args:
            input: prediction ``BNH[WD]`` (logits with an activation option set, else probabilities).
            target: ground truth ``BNH[WD]``, or ``B1H[WD]`` with ``to_onehot_y=True``.
            weight: optional per-pixel weight map ``B1H[WD]`` (shared by the classes) or ``BNH[WD]``,
                e.g. from :py:class:`custom_networks.transforms.ContourWeightsd`.

        Raises:
            ValueError: When the target or the weight does not match the input's shape.
        """
        n_pred_ch = input.shape[1]
        if self.sigmoid:
            input = torch.sigmoid(input)
        if self.softmax:
            if n_pred_ch == 1:
                warnings.warn("single channel prediction, `softmax=True` ignored.", stacklevel=2)
            else:
                input = torch.softmax(input, 1)
        if self.other_act is not None:
            input = self.other_act(input)

        if self.to_onehot_y:
            if n_pred_ch == 1:
                warnings.warn("single channel prediction, `to_onehot_y=True` ignored.", stacklevel=2)
            else:
                target = one_hot(target, num_classes=n_pred_ch)
        if target.shape != input.shape:
            raise ValueError(f"ground truth has different shape ({target.shape}) from input ({input.shape}).")
        if weight is not None and (
            weight.shape[:1] + weight.shape[2:] != input.shape[:1] + input.shape[2:]
            or weight.shape[1] not in (1, n_pred_ch)
        ):
            raise ValueError(f"weight of shape {weight.shape} does not match input of shape {input.shape}.")

        if not self.include_background:
            if n_pred_ch == 1:
                warnings.warn("single channel prediction, `include_background=False` ignored.", stacklevel=2)
            else:
                input, target = input[:, 1:], target[:, 1:]
                if weight is not None and weight.shape[1] > 1:
                    weight = weight[:, 1:]

        reduce_axis = list(range(2, input.ndim))
        if self.batch:
            reduce_axis.insert(0, 0)
        if not self.per_class:
            reduce_axis.insert(int(self.batch), 1)
        w = 1.0 if weight is None else weight

        def tanimoto(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            tp = t * p
            numerator = (w * tp).sum(reduce_axis, keepdim=True) + self.smooth
            denominator = (w * (t * t + p * p - tp)).sum(reduce_axis, keepdim=True) + self.smooth
            return numerator / denominator

        f = 1.0 - 0.5 * (tanimoto(input, target) + tanimoto(1.0 - input, 1.0 - target))

        return reduce_loss(f, self.reduction)
