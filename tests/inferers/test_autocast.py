"""Autocast on the input's device around any inferer: low-precision activations inside, float32 outputs outside."""

import pytest
import torch
from monai.inferers import SimpleInferer, SlidingWindowInferer
from monai.networks.nets import BasicUNet

from custom_networks.inferers import AutocastInferer

INFERERS = {
    "simple": SimpleInferer,
    "sliding_window": lambda: SlidingWindowInferer(roi_size=(32, 32), sw_batch_size=4, overlap=0.25, mode="gaussian"),
}


def _network() -> torch.nn.Module:
    torch.manual_seed(0)
    return BasicUNet(2, 1, 1, features=(4, 4, 8, 8, 16, 4)).eval()


def _record_conv_dtypes(network: torch.nn.Module) -> list[torch.dtype]:
    """dtypes of the first convolution's outputs, appended at every call."""
    dtypes: list[torch.dtype] = []
    conv = next(m for m in network.modules() if isinstance(m, torch.nn.Conv2d))
    conv.register_forward_hook(lambda module, args, output: dtypes.append(output.dtype))
    return dtypes


@pytest.mark.parametrize("inferer", INFERERS.values(), ids=INFERERS.keys())
@pytest.mark.parametrize("dtype", ["bfloat16", "float16", torch.bfloat16])
def test_low_precision_inside_float32_outside(inferer, dtype):
    network, x = _network(), torch.rand(1, 1, 64, 48)
    dtypes = _record_conv_dtypes(network)
    with torch.no_grad():
        reference = inferer()(x, network)
        assert set(dtypes) == {torch.float32}
        dtypes.clear()
        out = AutocastInferer(inferer(), enabled=True, dtype=dtype)(x, network)
    expected = getattr(torch, dtype) if isinstance(dtype, str) else dtype
    assert dtypes and set(dtypes) == {expected}  # the network ran in low precision ...
    assert out.dtype == torch.float32 and out.shape == reference.shape  # ... and the caller gets float32
    assert not torch.equal(out, reference)
    torch.testing.assert_close(out, reference, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("inferer", INFERERS.values(), ids=INFERERS.keys())
def test_disabled_is_the_wrapped_inferer(inferer):
    network, x = _network(), torch.rand(1, 1, 64, 48)
    dtypes = _record_conv_dtypes(network)
    with torch.no_grad():
        out = AutocastInferer(inferer(), enabled=False, dtype="bfloat16")(x, network)
        assert torch.equal(out, inferer()(x, network))
    assert set(dtypes) == {torch.float32}


@pytest.mark.parametrize("inferer", INFERERS.values(), ids=INFERERS.keys())
def test_gradients_reach_every_parameter(inferer):
    """In training the casts are recorded by autograd: float32 gradients, finite, on every parameter."""
    network, x = _network().train(), torch.rand(2, 1, 64, 48)
    out = AutocastInferer(inferer(), dtype="bfloat16")(x, network)
    assert out.dtype == torch.float32 and out.requires_grad
    torch.nn.functional.binary_cross_entropy_with_logits(out, (x > 0.5).float()).backward()
    for name, param in network.named_parameters():
        assert param.grad is not None, name
        assert param.grad.dtype == torch.float32 and torch.isfinite(param.grad).all(), name
    assert any(param.grad.abs().sum() > 0 for param in network.parameters())


@pytest.mark.parametrize("dtype", ["float32", "half8", torch.float32, torch.int8])
def test_bad_dtype(dtype):
    with pytest.raises(ValueError, match="'bfloat16' or 'float16'"):
        AutocastInferer(SimpleInferer(), dtype=dtype)


def test_built_from_a_bundle_config():
    """The bundles' form: the switches as top-level keys, the wrapped inferer inline."""
    from monai.bundle import ConfigParser

    config = {
        "amp": True,
        "amp_dtype": "bfloat16",
        "inferer": {
            "_target_": "custom_networks.inferers.AutocastInferer",
            "inferer": {"_target_": "SlidingWindowInferer", "roi_size": [16, 16]},
            "enabled": "@amp",
            "dtype": "@amp_dtype",
        },
    }
    inferer = ConfigParser(config).get_parsed_content("inferer")
    assert isinstance(inferer, AutocastInferer) and isinstance(inferer.inferer, SlidingWindowInferer)
    assert inferer.enabled and inferer.dtype == torch.bfloat16
