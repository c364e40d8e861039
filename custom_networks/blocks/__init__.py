"""Building blocks of the four papers, one paper idea per module."""

from .mldr import MLDRBlock
from .mlr import MLRBlock
from .multires import MultiResBlock
from .respath import ResPath
from .multiscale import MultiScaleDownBlock
from .rescr import ConvResBlock, ConvLSTMResBlock

__all__ = ["ConvLSTMResBlock", "ConvResBlock", "MLDRBlock", "MLRBlock", "MultiResBlock", "MultiScaleDownBlock", "ResPath"]
