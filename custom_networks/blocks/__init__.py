"""Building blocks of the four papers, one paper idea per module."""

from custom_networks.blocks.cascade_dilation import CascadeDilatedConv
from custom_networks.blocks.convlstm import ConvLSTM
from custom_networks.blocks.mldr import MLDRBlock
from custom_networks.blocks.mlr import MLRBlock
from custom_networks.blocks.multires import MultiResBlock
from custom_networks.blocks.multiscale import MultiScaleDownBlock
from custom_networks.blocks.rescr import ConvLSTMResBlock, ConvResBlock
from custom_networks.blocks.respath import ResPath

__all__ = [
    "CascadeDilatedConv",
    "ConvLSTM",
    "ConvLSTMResBlock",
    "ConvResBlock",
    "MLDRBlock",
    "MLRBlock",
    "MultiResBlock",
    "MultiScaleDownBlock",
    "ResPath",
]
