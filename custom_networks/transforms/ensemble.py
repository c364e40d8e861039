"""The prediction of a model ensemble: the mean of its members' probabilities (nnU-Net's fold ensembles, Isensee et
al., "nnU-Net", Nature Methods 18, 2021), handed on as logits so that a bundle's prediction transforms apply to it as
to one network's output."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import torch
from monai.config import KeysCollection
from monai.transforms import Activations, MapTransform, MeanEnsemble
from monai.utils.type_conversion import convert_to_dst_type

from custom_networks.errors import BadValueError

__all__ = ["ACTIVATIONS", "MeanEnsembleLogitsd", "probability_logits"]

ACTIVATIONS = ("sigmoid", "softmax")
EPSILON = 1e-7  # keeps the logits of probabilities 0 and 1 finite


def probability_logits(probabilities: torch.Tensor, activation: str) -> torch.Tensor:
    """Logits whose ``activation`` gives back ``probabilities``: log(p / (1 - p)) for the sigmoid, log p for the
    softmax over channels (dimension 0), each probability clipped to [1e-7, 1 - 1e-7]."""
    p = probabilities.float().clamp(EPSILON, 1 - EPSILON)
    return torch.log(p / (1 - p)) if activation == "sigmoid" else torch.log(p)


class MeanEnsembleLogitsd(MapTransform):
    """Averages the probabilities of the members' logits in ``keys`` (MONAI's ``Activations`` then ``MeanEnsemble``)
    and writes the mean, as logits (:func:`probability_logits`), to ``output_key``: a bundle's prediction transforms
    (the activation, then the threshold or argmax) then give the ensemble's mask, with the same metadata as the first
    member's prediction.

    Args:
        keys: the members' predictions, logits of one item (channels first), e.g. ``EnsembleEvaluator``'s
            ``pred_0``, ``pred_1``, …
        output_key: where the ensemble's logits go.
        activation: ``sigmoid`` (one probability per channel) or ``softmax`` (over the channels).

    Raises:
        ValueError: an unknown activation.
    """

    def __init__(self, keys: KeysCollection, output_key: str = "pred", activation: str = "sigmoid") -> None:
        super().__init__(keys)
        if activation not in ACTIVATIONS:
            raise BadValueError(f"activation {activation!r} is none of {list(ACTIVATIONS)}.")
        self.output_key = output_key
        self.activation = activation
        self.to_probabilities = Activations(sigmoid=activation == "sigmoid", softmax=activation == "softmax")
        self.mean = MeanEnsemble()

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> dict[Hashable, torch.Tensor]:
        d = dict(data)
        members: Sequence[torch.Tensor] = [d[key] for key in self.key_iterator(d)]
        mean = self.mean([self.to_probabilities(member) for member in members])
        d[self.output_key] = convert_to_dst_type(probability_logits(mean, self.activation), members[0])[0]
        return d
