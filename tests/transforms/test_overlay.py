"""Overlays colour true positives green, false positives red and false negatives blue, in the image's orientation."""

import numpy as np
import pytest
import torch
from monai.transforms import LoadImage
from PIL import Image

from custom_networks.transforms import SaveOverlayd, overlay_errors


def test_overlay_colours():
    image = torch.zeros(1, 2, 2)
    pred = torch.tensor([[[1.0, 1.0], [0.0, 0.0]]])
    label = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    rgb = overlay_errors(image, pred, label, alpha=1.0)
    assert rgb.dtype == torch.uint8 and rgb.shape == (3, 2, 2)
    assert rgb[:, 0, 0].tolist() == [0, 255, 0]  # TP
    assert rgb[:, 0, 1].tolist() == [255, 0, 0]  # FP
    assert rgb[:, 1, 0].tolist() == [0, 0, 255]  # FN
    assert rgb[:, 1, 1].tolist() == [0, 0, 0]  # TN keeps the image


def test_save_overlay_keeps_orientation(tmp_path):
    h, w = 6, 10
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(tmp_path / "case.png")
    image = LoadImage(image_only=True, ensure_channel_first=True)(tmp_path / "case.png")
    mask = torch.zeros(1, *image.shape[1:])
    mask[0, 0, 0] = 1  # the first pixel of the loaded array
    SaveOverlayd(str(tmp_path / "out"))({"image": image, "pred": mask, "label": mask})
    written = np.asarray(Image.open(tmp_path / "out" / "case_overlay.png"))
    assert written.shape == (h, w, 3)
    green = np.argwhere((written[..., 1] > written[..., 0]) & (written[..., 1] > written[..., 2]))
    assert green.tolist() == [[0, 0]]


def test_save_overlay_rejects_volumes(tmp_path):
    volume = torch.zeros(1, 4, 4, 4)
    with pytest.raises(ValueError, match="2-D images"):
        SaveOverlayd(str(tmp_path))({"image": volume, "pred": volume, "label": volume})
