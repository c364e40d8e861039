"""Decoder saliency: the gradient of the output probability with respect to each decoder layer's output, max |·| over
channels, upsampled to the input's size, min-max scaled and averaged, recomputed by hand here."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from custom_networks.experiments import DecoderSaliency, decoder_layers
from custom_networks.nets import (
    AttentionUNet,
    CicekUNet,
    MILDNet,
    MSUNet,
    MultiResUNet,
    ResCRNet,
    ResDUnet,
    ResidualUNet,
    UNet,
    UNetPlusPlus,
)
from custom_networks.nets.registry import NETWORKS

# a tiny build of every network of the registry, and its decoder layers
TINY = {
    "mildnet": lambda: MILDNet(2, 3, 1, features=(4, 8, 16)),
    "unet": lambda: UNet(2, 3, 1, features=(4, 8, 16)),
    "unet_mlr": lambda: UNet(2, 3, 1, features=(4, 8, 16), mlr_skips=True),
    "residualunet": lambda: ResidualUNet(2, 3, 1, features=(4, 8, 16)),
    "resdunet": lambda: ResDUnet(2, 3, 1, features=(4, 8, 16)),
    "unet3d": lambda: CicekUNet(2, 3, 1, features=(4, 8, 16)),  # the 2-D build of the same topology
    "attentionunet": lambda: AttentionUNet(2, 3, 1, features=(4, 8, 16)),
    "multiresunet": lambda: MultiResUNet(2, 3, 1, features=(4, 8, 16)),
    "unetplusplus": lambda: UNetPlusPlus(2, 3, 1, features=(4, 4, 8, 8, 16, 4)),
    "msunet": lambda: MSUNet(2, 3, 2, features=(3, 6, 9)),
    "rescrnet": lambda: ResCRNet(3, 3, filters=4, num_conv_blocks=2),
}
LAYERS = {
    "mildnet": ["decoder.0", "decoder.1"],
    "unet": ["decoder.0", "decoder.1"],
    "unet_mlr": ["decoder.0", "decoder.1"],
    "residualunet": ["decoder.0", "decoder.1"],
    "resdunet": ["decoder.0", "decoder.1"],
    "unet3d": ["decoder.0", "decoder.1"],
    "attentionunet": ["net.model.1.merge", "net.model.1.submodule.1.merge"],
    "multiresunet": ["decoders.0", "decoders.1"],
    "unetplusplus": [f"net.upcat_{i}_{j}" for j in range(1, 5) for i in range(5 - j)],
    "msunet": ["ups.0", "ups.1"],
    "rescrnet": ["conv_blocks.0", "conv_blocks.1", "head"],
}


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_map_has_the_input_size_and_range(name):
    torch.manual_seed(0)
    network = TINY[name]()
    assert sorted(decoder_layers(network)) == sorted(LAYERS[name])
    saliency = DecoderSaliency(network)(torch.rand(3, 37, 45))  # no multiple of any network's: padded, cropped
    assert saliency.shape == (37, 45)
    assert 0 <= saliency.min() < saliency.max() <= 1


def test_map_is_the_average_of_the_decoder_gradients():
    torch.manual_seed(0)
    network = UNet(2, 3, 1, features=(4, 8, 16)).eval()
    image = torch.rand(3, 16, 16)
    outputs = {}
    hooks = [
        network.get_submodule(name).register_forward_hook(lambda m, i, o, name=name: outputs.update({name: o}))
        for name in ("decoder.0", "decoder.1")
    ]
    probability = torch.sigmoid(network(image[None])).sum()
    gradients = torch.autograd.grad(probability, [outputs["decoder.0"], outputs["decoder.1"]])
    for hook in hooks:
        hook.remove()
    expected = []
    for gradient in gradients:
        up = F.interpolate(gradient.abs().amax(dim=1, keepdim=True), size=(16, 16), mode="bilinear")[0, 0]
        expected.append((up - up.min()) / (up.max() - up.min()))
    assert gradients[0].shape[-1] == 8  # the deeper decoder layer works at half resolution
    saliency = DecoderSaliency(network)(image)
    torch.testing.assert_close(saliency, torch.stack(expected).mean(dim=0), rtol=1e-5, atol=1e-6)


def test_inference_is_unchanged_by_the_hooks():
    torch.manual_seed(0)
    network = MILDNet(2, 3, 1, features=(4, 8, 16)).eval()
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        before = network(x)
    DecoderSaliency(network)(x[0])
    with torch.no_grad():
        torch.testing.assert_close(network(x), before)


def test_unknown_network_needs_layer_names():
    with pytest.raises(ValueError, match="no decoder layers known for Conv2d"):
        decoder_layers(torch.nn.Conv2d(3, 1, 1))
