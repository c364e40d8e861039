"""Building blocks of the four papers, one paper idea per module."""

from .convlstm import ConvLSTM
from .mldr import MLDRBlock
from .mlr import MLRBlock
from .multires import MultiResBlock
from .multiscale import MultiScaleDownBlock
from .rescr import ConvLSTMResBlock, ConvResBlock
from .respath import ResPath

__all__ = [
    "ConvLSTM",
    "ConvLSTMResBlock",
    "ConvResBlock",
    "MLDRBlock",
    "MLRBlock",
    "MultiResBlock",
    "MultiScaleDownBlock",
    "ResPath",
]
