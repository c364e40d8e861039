"""Gradient saliency maps averaged over a network's decoder layers, as the MILDNet paper draws them (its Fig. 7).

Gudhe et al., Scientific Reports 11, 14105 (2021), "Model interpretation": saliency maps (Simonyan et al., "Deep
inside convolutional networks", 2014) are the derivative of the model output with respect to features; one is
computed for each decoder layer, upsampled to the input's size, and the maps are averaged into one.

How, and why with these MONAI tools:

- the score is the sum over all pixels of the probability of one output channel (sigmoid of a single channel,
  softmax over several: the output of the papers' Keras models, whose last layer is the activation; [choice]: with
  the logits the gradient at the last decoder layer would be the same everywhere, since the head is a 1×1 conv);
- ``monai.visualize.class_activation_maps.ModelWithHooks``, the hook machinery of MONAI's GradCAM, records the
  gradient of that score with respect to the output of every decoder layer in one backward pass (its class score is
  taken from the probabilities here). GradCAM itself is not used: it weights a layer's activations by spatially
  averaged gradients (a class-activation map), whereas the paper cites Simonyan et al.'s gradient saliency, the
  magnitude of the gradient itself;
- per layer the map is the maximum over channels of the absolute gradient (Simonyan's reduction over colour
  channels, here over feature channels), upsampled (bi-/trilinear, ``monai.visualize.default_upsampler``) to the
  input's size and min-max scaled to [0, 1], so that every layer weighs the same in the average ([choice]: the paper
  does not say how the maps are scaled; raw gradient magnitudes differ by orders of magnitude between levels).

The decoder layers are those named by :data:`~custom_networks.nets.registry.NETWORKS` (``decoder``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from monai.transforms import CenterSpatialCrop, DivisiblePad, ScaleIntensity
from monai.utils import convert_to_tensor
from monai.visualize import ModelWithHooks, default_upsampler
from torch import nn

from custom_networks.nets.registry import NETWORKS, network_name

__all__ = ["DecoderSaliency", "decoder_layers"]


def decoder_layers(network: nn.Module) -> list[str]:
    """Names (``named_modules``) of the decoder layers of one of the networks of
    :data:`~custom_networks.nets.registry.NETWORKS`, in forward order.

    Raises:
        ValueError: another network class.
    """
    name = network_name(type(network))
    if name is None:
        raise ValueError(f"no decoder layers known for {type(network).__name__}; pass the layer names.")
    return [layer for layer, _ in network.named_modules() if re.fullmatch(NETWORKS[name].decoder, layer)]


class _ProbabilityHooks(ModelWithHooks):
    """``ModelWithHooks`` whose class score is the channel's probability rather than its logit."""

    def class_score(self, logits: torch.Tensor, class_idx: int) -> torch.Tensor:
        probabilities = torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, dim=1)
        return super().class_score(probabilities, class_idx)


class DecoderSaliency:
    """Gradient saliency of ``network``'s output averaged over its decoder layers (see the module's description).

    The hooks stay on ``network``; they record nothing when no gradient is computed (inference under
    ``torch.no_grad``).

    Args:
        network: a segmentation network returning logits ``(B, C, *spatial)``; ``network.multiple`` (if present)
            is the number every input size must be a multiple of: inputs are padded to it and the map cropped back.
        layers: names of the layers to average; default :func:`decoder_layers`.
    """

    def __init__(self, network: nn.Module, layers: Sequence[str] | None = None):
        self.layers = decoder_layers(network) if layers is None else list(layers)
        self.hooked = _ProbabilityHooks(network, self.layers, register_backward=True)
        self.multiple = getattr(network, "multiple", 1)
        self.device = next(network.parameters()).device

    def __call__(self, image: torch.Tensor, class_idx: int = 0) -> torch.Tensor:
        """The saliency map ``(*spatial)`` in [0, 1] of ``image`` ``(C, *spatial)`` for output channel
        ``class_idx`` (sigmoid for a single channel, softmax over several: multi-label outputs with one sigmoid per
        channel, such as the BraTS bundles', are not handled)."""
        spatial = image.shape[1:]
        padded = convert_to_tensor(DivisiblePad(k=self.multiple)(image), track_meta=False)
        inputs = padded[None].to(self.device).requires_grad_()  # every hooked layer then has an input with gradient
        _, _, gradients = self.hooked(inputs, class_idx=class_idx)
        upsample, crop = default_upsampler(padded.shape[1:]), CenterSpatialCrop(spatial)
        scale = ScaleIntensity(minv=0.0, maxv=1.0)
        maps = [scale(crop(upsample(g.abs().amax(dim=1, keepdim=True))[0])) for g in gradients]
        return convert_to_tensor(torch.stack(maps).mean(dim=0)[0], track_meta=False).detach().cpu()
