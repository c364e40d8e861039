"""Label conventions → class indices, and image channel fitting, on small arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from custom_networks.data import DataPreparationError
from custom_networks.data.images import fit_channels
from custom_networks.data.labels import binary_mask, index_mask, instance_foreground, palette_mask, parse_palette

HERE = Path("mask.png")


def test_binary_masks_accept_0_255_or_0_1_and_a_threshold():
    assert binary_mask(np.array([[0, 255]], np.uint8), HERE).tolist() == [[0, 1]]
    assert binary_mask(np.array([[0, 1]], np.uint8), HERE).tolist() == [[0, 1]]
    grey = np.array([[0, 3, 200, 255]], np.uint8)
    with pytest.raises(DataPreparationError, match="unexpected label values 0, 3, 200, 255"):
        binary_mask(grey, HERE)
    assert binary_mask(grey, HERE, threshold=127).tolist() == [[0, 0, 1, 1]]
    rgb = np.dstack([np.array([[0, 255]], np.uint8)] * 3)
    assert binary_mask(rgb, HERE).tolist() == [[0, 1]]  # identical colour channels are one channel


def test_instances_and_index_masks():
    assert instance_foreground(np.array([[0, 7, 300]], np.uint16), HERE).tolist() == [[0, 1, 1]]
    colour = np.array([[[0, 0, 0], [10, 0, 0], [0, 0, 3]]], np.uint8)
    assert instance_foreground(colour, HERE).tolist() == [[0, 1, 1]]
    assert index_mask(np.array([[0, 2]], np.uint8), HERE, 3).tolist() == [[0, 2]]
    with pytest.raises(DataPreparationError, match="unexpected label values 3"):
        index_mask(np.array([[0, 3]], np.uint8), HERE, 3)
    with pytest.raises(DataPreparationError, match="do not look like class indices"):
        index_mask(np.array([[0, 255]], np.uint8), HERE, None)


def test_palette_masks_exact_and_with_tolerance():
    palette = parse_palette([[0, 0, 0], [255, 0, 0], [0, 0, 255]])
    mask = np.array([[[0, 0, 0], [255, 0, 0], [0, 0, 255]]], np.uint8)
    assert palette_mask(mask, palette, HERE).tolist() == [[0, 1, 2]]
    noisy = mask.copy()
    noisy[0, 1] = [250, 4, 3]
    with pytest.raises(DataPreparationError, match=r"colour \[250, 4, 3\]"):
        palette_mask(noisy, palette, HERE)
    assert palette_mask(noisy, palette, HERE, tolerance=8).tolist() == [[0, 1, 2]]
    gray = parse_palette([0, 128, 255])
    assert palette_mask(np.array([[255, 0, 128]], np.uint8), gray, HERE).tolist() == [[2, 0, 1]]
    for bad in ([[0, 0, 0]], [[0, 0], [1, 1]], [0, 0], [0, 300]):
        with pytest.raises(DataPreparationError, match="palette"):
            parse_palette(bad)


def test_fit_channels():
    rgba = np.zeros((2, 2, 4), np.uint8)
    assert fit_channels(rgba, (3,), HERE).shape == (2, 2, 3)
    grey_rgb = np.zeros((2, 2, 3), np.uint8)
    assert fit_channels(grey_rgb, (1,), HERE).shape == (2, 2)
    image = np.zeros((2, 2, 3), np.uint8)
    assert fit_channels(image, (3,), HERE) is image  # unchanged: may be copied as is
    colour = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    with pytest.raises(DataPreparationError, match="wrong channel count: 3 channel"):
        fit_channels(colour, (1,), HERE)
    with pytest.raises(DataPreparationError, match="wrong channel count: 1 channel"):
        fit_channels(np.zeros((2, 2), np.uint8), (3,), HERE)
