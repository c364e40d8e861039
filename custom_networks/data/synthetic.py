"""Small synthetic copies of every supported raw layout, for tests, demos and bundle smoke runs.

Each generator writes what the publisher's archive unpacks to — the same file names, formats and value
conventions (DSB RGBA PNG + one 0/255 PNG per nucleus, ISBI 8-bit multi-page TIFF with 255 = cell, BraTS NIfTI per
modality with labels 0/1/2/4, Decathlon 4-D NIfTI + ``dataset.json``, …) — with images that carry a learnable
signal: every class has its own intensity/colour, blurred at the edges, plus noise. Output is deterministic for a
given ``seed``, ``count`` and ``size``.

    synthesize("dsb2018", "raw/dsb", count=12, size=64)
    python scripts/prepare_data.py synthesize dsb2018 --dst raw/dsb --count 12 --size 64
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import nibabel as nib
import numpy as np
import tifffile
from PIL import Image
from scipy import ndimage

from custom_networks.data.errors import DataPreparationError
from custom_networks.data.output import staged_output

__all__ = ["GENERATORS", "SYNTHETIC_CLASS_NAMES", "SYNTHETIC_MARKER", "SYNTHETIC_PALETTE", "synthesize"]

#: Hidden file that marks a folder written by :func:`synthesize` (so a re-run may replace it).
SYNTHETIC_MARKER = ".synthetic"
#: Colour of each class in the colour-coded masks of ``multiclass_microscopy`` (as in the Res-CR-Net EM data:
#: other = green, nucleus = red, mitochondrion = blue); pass it to ``prepare`` as ``palette``.
SYNTHETIC_PALETTE = ((0, 255, 0), (255, 0, 0), (0, 0, 255))
SYNTHETIC_CLASS_NAMES = ("other", "nucleus", "mitochondrion")


# --------------------------------------------------------------------------------------------------- shared parts
def _rng(seed: int, dataset: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(dataset.encode()), index])


def _ellipses(
    rng: np.random.Generator, shape: tuple[int, ...], count: int, radius: tuple[float, float], within=None
) -> np.ndarray:
    """Instance map (0 = background, 1…n) of up to ``count`` non-touching ellipses (ellipsoids in 3-D) with radii
    a fraction ``radius`` of the smallest side, optionally only ``within`` a boolean mask."""
    grid = np.indices(shape, dtype=np.float32)
    labels = np.zeros(shape, dtype=np.int32)
    side = min(shape)
    for _ in range(count * 20):
        if labels.max() == count:
            break
        radii = rng.uniform(*radius, size=len(shape)) * side
        centre = [rng.uniform(min(r + 1, n / 2), max(n - r - 1, n / 2)) for r, n in zip(radii, shape, strict=True)]
        blob = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii, strict=True)) <= 1.0
        if (ndimage.binary_dilation(blob, iterations=2) & (labels > 0)).any():
            continue
        if within is not None and not within[blob].all():
            continue
        labels[blob] = labels.max() + 1
    if labels.max() == 0:  # nothing fitted: one blob in the middle
        centre = [n / 2 for n in shape]
        labels[sum(((g - c) / (side * radius[0])) ** 2 for g, c in zip(grid, centre, strict=True)) <= 1.0] = 1
    return labels


def _render(
    rng: np.random.Generator, classes: np.ndarray, colours: Any, noise: float, dtype: type = np.uint8
) -> np.ndarray:
    """Image whose pixels take the colour of their class, edges blurred, plus Gaussian noise."""
    colours = np.asarray(colours, dtype=np.float32)
    colours = colours[:, None] if colours.ndim == 1 else colours
    image = ndimage.gaussian_filter(colours[classes], sigma=(1.0,) * classes.ndim + (0.0,))
    image += rng.normal(0.0, noise, image.shape).astype(np.float32)
    info = np.iinfo(dtype)
    image = np.clip(np.rint(image), max(info.min, 0), info.max).astype(dtype)
    return image[..., 0] if image.shape[-1] == 1 else image


def _save_png(array: np.ndarray, path: Path, **kwargs: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)


def _save_tiff(array: np.ndarray, path: Path, **kwargs: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    photometric = "rgb" if array.ndim == 3 and array.shape[-1] == 3 else "minisblack"
    tifffile.imwrite(path, array, photometric=photometric, **kwargs)


def _save_nifti(array: np.ndarray, affine: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(array, affine), path)


def _binary(mask: np.ndarray) -> np.ndarray:
    return np.where(mask > 0, 255, 0).astype(np.uint8)


def _wide(size: int, aspect: float) -> tuple[int, int]:
    return size, max(1, round(size * aspect))


# ----------------------------------------------------------------------------------------------------- generators
def dsb2018(root: Path, count: int, size: int, seed: int) -> None:
    """``stage1_train/<id>/images/<id>.png`` (RGBA, alpha 255) + ``masks/<hash>.png`` (0/255, one per nucleus)."""
    for i in range(count):
        rng = _rng(seed, "dsb2018", i)
        case = hashlib.sha256(f"dsb2018-{seed}-{i}".encode()).hexdigest()
        nuclei = _ellipses(rng, (size, size), int(rng.integers(3, 4 + size // 16)), (0.05, 0.12))
        tint = rng.uniform(0.8, 1.0, 3)
        rgb = _render(rng, (nuclei > 0).astype(np.int64), [[20, 20, 25], 200 * tint], noise=10)
        folder = root / "stage1_train" / case
        _save_png(np.dstack([rgb, np.full((size, size), 255, np.uint8)]), folder / "images" / f"{case}.png")
        for k in range(1, nuclei.max() + 1):
            mask_id = hashlib.sha256(f"{case}-{k}".encode()).hexdigest()
            _save_png(_binary(nuclei == k), folder / "masks" / f"{mask_id}.png")


def _cells(rng: np.random.Generator, size: int) -> np.ndarray:
    """Cell ids (1…n) of a random Voronoi tessellation of a size × size image."""
    seeds = np.zeros((size, size), dtype=np.int32)
    cells = max(4, size * size // 300)
    seeds[rng.integers(0, size, cells), rng.integers(0, size, cells)] = np.arange(1, cells + 1)
    _, (iy, ix) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    return seeds[iy, ix]


def _cell_edges(cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(pixels whose lower neighbour is another cell, pixels whose right neighbour is another cell)."""
    below, right = np.zeros_like(cell, dtype=bool), np.zeros_like(cell, dtype=bool)
    below[:-1] = cell[:-1] != cell[1:]
    right[:, :-1] = cell[:, :-1] != cell[:, 1:]
    return below, right


def _membranes(rng: np.random.Generator, size: int) -> np.ndarray:
    """Cell-membrane map of a Voronoi tessellation (boolean, membranes 2–3 px wide)."""
    below, right = _cell_edges(_cells(rng, size))
    return ndimage.binary_dilation(below | right)


def isbi2012(root: Path, count: int, size: int, seed: int, layout: str = "tif") -> None:
    """``train-volume.tif`` / ``train-labels.tif`` (``count`` pages, 8-bit, label 255 = cell, 0 = membrane) and an
    unlabelled ``test-volume.tif``; ``layout="png"`` writes ``image/N.png`` + ``label/N.png`` instead."""
    if layout not in ("tif", "png"):
        raise DataPreparationError(f"isbi2012 layout must be 'tif' or 'png', got {layout!r}")
    images, labels = [], []
    for i in range(2 * count):
        rng = _rng(seed, "isbi2012", i)
        membrane = _membranes(rng, size)
        images.append(_render(rng, membrane.astype(np.int64), [185, 45], noise=18))
        labels.append(np.where(membrane, 0, 255).astype(np.uint8))
    if layout == "png":
        for i in range(count):
            _save_png(images[i], root / "image" / f"{i}.png")
            _save_png(labels[i], root / "label" / f"{i}.png")
        return
    _save_tiff(np.stack(images[:count]), root / "train-volume.tif")
    _save_tiff(np.stack(labels[:count]), root / "train-labels.tif")
    _save_tiff(np.stack(images[count:]), root / "test-volume.tif")


def _isic_case(rng: np.random.Generator, size: int, inputs: Path, truth: Path, name: str) -> np.ndarray:
    """Write one dermoscopy JPEG ``inputs/<name>.jpg`` and its 0/255 mask ``truth/<name>_segmentation.png``;
    return the image."""
    lesion = _ellipses(rng, _wide(size, 4 / 3), 1, (0.2, 0.35)) > 0
    image = _render(rng, lesion.astype(np.int64), [[225, 180, 160], [120, 70, 50]], noise=8)
    _save_png(image, inputs / f"{name}.jpg", quality=95)
    _save_png(_binary(lesion), truth / f"{name}_segmentation.png")
    return image


def isic2018(root: Path, count: int, size: int, seed: int) -> None:
    """``ISIC2018_Task1-2_Training_Input/ISIC_nnnnnnn.jpg`` + ``…GroundTruth/ISIC_nnnnnnn_segmentation.png`` (0/255)."""
    inputs, truth = root / "ISIC2018_Task1-2_Training_Input", root / "ISIC2018_Task1_Training_GroundTruth"
    for i in range(count):
        _isic_case(_rng(seed, "isic2018", i), size, inputs, truth, f"ISIC_{1000 + 3 * i:07d}")
    for folder in (inputs, truth):
        (folder / "LICENSE.txt").write_text("Synthetic data, CC0.\n")
        (folder / "ATTRIBUTION.txt").write_text("Synthetic ISIC-2018 layout (custom_networks.data.synthetic).\n")


_ISIC2017_PARTS = (
    ("ISIC-2017_Validation_Data", "ISIC-2017_Validation_Part1_GroundTruth"),
    ("ISIC-2017_Training_Data", "ISIC-2017_Training_Part1_GroundTruth"),
    ("ISIC-2017_Test_v2_Data", "ISIC-2017_Test_v2_Part1_GroundTruth"),
)


def isic2017(root: Path, count: int, size: int, seed: int, layout: str = "validation") -> None:
    """``ISIC-2017_Validation_Data/ISIC_nnnnnnn.jpg`` with the archive's ``ISIC_nnnnnnn_superpixels.png`` (RGB-encoded
    superpixel indices) + ``ISIC-2017_Validation_Part1_GroundTruth/ISIC_nnnnnnn_segmentation.png`` (0/255);
    ``layout="all"`` spreads the cases over the Validation, Training and Test_v2 parts in turn."""
    if layout not in ("validation", "all"):
        raise DataPreparationError(f"isic2017 layout must be 'validation' or 'all', got {layout!r}")
    parts = _ISIC2017_PARTS if layout == "all" else _ISIC2017_PARTS[:1]
    for i in range(count):
        inputs, truth = (root / folder for folder in parts[i % len(parts)])
        name = f"ISIC_{9995 + 7 * i:07d}"
        image = _isic_case(_rng(seed, "isic2017", i), size, inputs, truth, name)
        rows, cols = np.indices(image.shape[:2]) // 8
        index = rows * (image.shape[1] // 8 + 1) + cols
        superpixels = np.dstack([index & 255, (index >> 8) & 255, index >> 16]).astype(np.uint8)
        _save_png(superpixels, inputs / f"{name}_superpixels.png")


def glas2015(root: Path, count: int, size: int, seed: int) -> None:
    """``{train,testA,testB}_N.bmp`` (RGB) + ``…_anno.bmp`` (instance labels) in the official 85:60:20 proportion,
    and ``Grade.csv`` (two images per patient)."""
    n_train = max(1, round(count * 85 / 165))
    n_test_a = min(count - n_train, round(count * 60 / 165))
    names = [f"train_{k + 1}" for k in range(n_train)] + [f"testA_{k + 1}" for k in range(n_test_a)]
    names += [f"testB_{k + 1}" for k in range(count - len(names))]
    rows = ["name, patient ID, grade (GlaS), grade (Sirinukunwattana et al. 2015)"]
    for i, name in enumerate(names):
        rng = _rng(seed, "glas2015", i)
        glands = _ellipses(rng, _wide(size, 775 / 522), int(rng.integers(2, 6)), (0.1, 0.22))
        image = _render(rng, (glands > 0).astype(np.int64), [[235, 180, 215], [120, 55, 150]], noise=12)
        _save_png(image, root / f"{name}.bmp")
        _save_png(glands.astype(np.uint8), root / f"{name}_anno.bmp")
        grade = ("benign", "healthy") if i % 3 else ("malignant", "moderately differentiated")
        rows.append(f"{name},{i // 2 + 1}, {grade[0]}, {grade[1]}")
    (root / "Grade.csv").write_text("\n".join(rows) + "\n")


def lgg(root: Path, count: int, size: int, seed: int, slices: int = 4) -> None:
    """``kaggle_3m/<patient>/<patient>_<n>.tif`` (H×W×3: pre-contrast, FLAIR, post-contrast) + ``_mask.tif``
    (0/255; the first and last slice of each of the ``count`` patients have an empty mask), and ``data.csv``."""
    top = root / "kaggle_3m"
    patients = [f"TCGA_{('CS', 'DU', 'FG', 'HT')[i % 4]}_{4941 + 17 * i}_{19960909 + 101 * i}" for i in range(count)]
    for i, patient in enumerate(patients):
        for n in range(1, slices + 1):
            rng = _rng(seed, "lgg", i * 1000 + n)
            brain = _ellipses(rng, (size, size), 1, (0.38, 0.42)) > 0
            tumour = np.zeros_like(brain)
            if 1 < n < slices or slices == 1:
                tumour = _ellipses(rng, (size, size), 1, (0.08, 0.16), within=brain) > 0
            classes = brain.astype(np.int64) + tumour
            image = _render(rng, classes, [[0, 0, 0], [90, 80, 95], [105, 210, 160]], noise=8)
            _save_tiff(image, top / patient / f"{patient}_{n}.tif")
            _save_tiff(_binary(tumour), top / patient / f"{patient}_{n}_mask.tif")
    (top / "data.csv").write_text("Patient,death01\n" + "".join(f"{p[:12]},{i % 2}\n" for i, p in enumerate(patients)))
    (top / "README.md").write_text("Synthetic LGG layout (custom_networks.data.synthetic).\n")


def murphy(root: Path, count: int, size: int, seed: int) -> None:
    """``images/{gnf,ic100}/dna-N.png`` (8-bit grayscale) + ``labels/{gnf,ic100}/dna-N.png`` (instance labels)."""
    half = math.ceil(count / 2)
    for i in range(count):
        rng = _rng(seed, "murphy", i)
        collection, n = ("gnf", i) if i < half else ("ic100", i - half)
        nuclei = _ellipses(rng, _wide(size, 1344 / 1024), int(rng.integers(3, 4 + size // 16)), (0.05, 0.11))
        image = _render(rng, (nuclei > 0).astype(np.int64), [25, 170], noise=10)
        _save_png(image, root / "images" / collection / f"dna-{n}.png")
        _save_png(nuclei.astype(np.uint8), root / "labels" / collection / f"dna-{n}.png")


def cvc_clinicdb(root: Path, count: int, size: int, seed: int, fmt: str = "tif") -> None:
    """``Original/N.tif`` (RGB) + ``Ground Truth/N.tif`` (0/255), N from 1; ``fmt="png"`` for the PNG re-release."""
    if fmt not in ("tif", "png"):
        raise DataPreparationError(f"cvc_clinicdb fmt must be 'tif' or 'png', got {fmt!r}")
    save = _save_tiff if fmt == "tif" else _save_png
    for i in range(count):
        rng = _rng(seed, "cvc_clinicdb", i)
        polyp = _ellipses(rng, _wide(size, 4 / 3), 1, (0.12, 0.25)) > 0
        save(
            _render(rng, polyp.astype(np.int64), [[170, 80, 65], [225, 150, 120]], noise=10),
            root / "Original" / f"{i + 1}.{fmt}",
        )
        save(_binary(polyp), root / "Ground Truth" / f"{i + 1}.{fmt}")


def kvasir_seg(root: Path, count: int, size: int, seed: int) -> None:
    """``Kvasir-SEG/images/<id>.jpg`` (RGB) + ``Kvasir-SEG/masks/<id>.jpg``: the 0/255 polyp mask stored as an RGB
    JPEG, so its edges carry the intermediate grey levels of JPEG compression, as in the release."""
    top = root / "Kvasir-SEG"
    for i in range(count):
        rng = _rng(seed, "kvasir_seg", i)
        polyp = _ellipses(rng, _wide(size, 622 / 529), 1, (0.15, 0.3)) > 0
        image = _render(rng, polyp.astype(np.int64), [[160, 75, 60], [230, 140, 110]], noise=10)
        case = "cju" + hashlib.sha256(f"kvasir_seg-{seed}-{i}".encode()).hexdigest()[:22]
        _save_png(image, top / "images" / f"{case}.jpg", quality=90)
        _save_png(np.dstack([_binary(polyp)] * 3), top / "masks" / f"{case}.jpg", quality=75)


# Drosophila VNC merged map: membrane | / - \, junction, glia/extracellular, mitochondrion, synapse, intracellular
_VNC_VALUES = np.array([0, 32, 64, 96, 128, 159, 191, 223, 255], dtype=np.uint8)
_VNC_INTENSITY = [50, 50, 50, 50, 40, 120, 85, 65, 185]


def _vnc_map(rng: np.random.Generator, size: int) -> np.ndarray:
    """Index (into :data:`_VNC_VALUES`) of every pixel of one section: Voronoi cells (intracellular) outlined by
    membranes labelled by orientation, junctions where outlines meet, the outline of every fifth cell as glia,
    mitochondria inside cells and synapses on a few membranes."""
    cell = _cells(rng, size)
    below, right = _cell_edges(cell)
    membrane = ndimage.binary_dilation(below | right)
    gy, gx = np.gradient(ndimage.gaussian_filter(membrane.astype(np.float32), 1.5))
    orientation = np.rint((np.arctan2(gy, gx) % np.pi) / (np.pi / 4)).astype(np.int64) % 4
    index = np.where(membrane, orientation, 8)
    index[ndimage.binary_dilation(below & right) & membrane] = 4
    index[membrane & (cell % 5 == 0)] = 5
    free = ~ndimage.binary_dilation(membrane, iterations=2)
    index[_ellipses(rng, (size, size), int(rng.integers(3, 7)), (0.03, 0.06), within=free) > 0] = 6
    spots = np.zeros((size, size), dtype=bool)
    rows, cols = np.nonzero(membrane)
    picks = rng.choice(len(rows), size=min(3, len(rows)), replace=False)
    spots[rows[picks], cols[picks]] = True
    index[ndimage.binary_dilation(spots, iterations=2)] = 7
    return index


def drosophila_vnc(root: Path, count: int, size: int, seed: int) -> None:
    """``stack1/raw/NN.tif`` (8-bit grey sections) + ``stack1/labels/labelsNNNNNNNN.png`` (merged map with the
    publisher's nine values), the split-up ``stack1/{membranes,synapses}`` (1-bit) and ``mitochondria`` (0/255)
    PNGs, and two unlabelled ``stack2/raw`` sections."""
    stack = root / "stack1"
    for i in range(count + 2):
        rng = _rng(seed, "drosophila_vnc", i)
        index = _vnc_map(rng, size)
        image = _render(rng, index, _VNC_INTENSITY, noise=15)
        if i >= count:
            _save_tiff(image, root / "stack2" / "raw" / f"{i - count:02d}.tif")
            continue
        _save_tiff(image, stack / "raw" / f"{i:02d}.tif")
        _save_png(_VNC_VALUES[index], stack / "labels" / f"labels{i:08d}.png")
        _save_png(index <= 5, stack / "membranes" / f"{i:02d}.png")
        _save_png(_binary(index == 6), stack / "mitochondria" / f"{i:02d}.png")
        _save_png(index == 7, stack / "synapses" / f"{i:02d}.png")
    (root / "README.md").write_text("Synthetic Drosophila VNC ssTEM layout (custom_networks.data.synthetic).\n")


def _nuclei(rng: np.random.Generator, size: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(outlines as N×2 arrays of x, y; boolean mask of the ellipses they trace) of nuclei placed at random: they
    may overlap each other and cross the border."""
    ys, xs = np.indices((size, size), dtype=np.float32)
    outlines, mask = [], np.zeros((size, size), dtype=bool)
    for _ in range(int(rng.integers(3, 4 + size // 8))):
        (cx, cy), (rx, ry) = rng.uniform(0, size, 2), rng.uniform(0.05, 0.1, 2) * size
        angles = np.linspace(0, 2 * np.pi, int(rng.integers(12, 24)), endpoint=False) + rng.uniform(0, np.pi)
        outlines.append(np.stack([cx + rx * np.cos(angles), cy + ry * np.sin(angles)], axis=-1))
        mask |= ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1
    return outlines, mask


def _aperio_xml(outlines: list[np.ndarray], path: Path) -> None:
    """Write Aperio ImageScope XML (``Annotations/Annotation/Regions/Region/Vertices/Vertex X= Y=``) with one
    region per outline; as in MoNuSeg, region Ids start at 2 and some regions have integer vertices, others
    decimal ones."""
    top = ElementTree.Element("Annotations", MicronsPerPixel="0.252700")
    annotation = ElementTree.SubElement(top, "Annotation", Id="1", Name="", Type="4", LineColor="65280")
    ElementTree.SubElement(annotation, "Attributes")
    regions = ElementTree.SubElement(annotation, "Regions")
    ElementTree.SubElement(regions, "RegionAttributeHeaders")
    for k, points in enumerate(outlines):
        region = ElementTree.SubElement(regions, "Region", Id=str(k + 2), Type="0", DisplayId=str(k + 2))
        ElementTree.SubElement(region, "Attributes")
        vertices = ElementTree.SubElement(region, "Vertices")
        text = "{:.0f}" if k % 2 else "{:.6f}"
        for x, y in points:
            ElementTree.SubElement(vertices, "Vertex", X=text.format(x), Y=text.format(y))
    ElementTree.SubElement(annotation, "Plots")
    ElementTree.indent(top, space="\t")
    path.parent.mkdir(parents=True, exist_ok=True)
    ElementTree.ElementTree(top).write(path, encoding="utf-8")


def monuseg(root: Path, count: int, size: int, seed: int, layout: str = "test") -> None:
    """``MoNuSegTestData/TCGA-….tif`` (RGB H&E-like tile) + ``TCGA-….xml`` (one polygon per nucleus, Aperio
    ImageScope XML, no mask images); ``layout="training"`` writes the training release instead:
    ``MoNuSeg 2018 Training Data/Tissue Images/*.tif`` + ``Annotations/*.xml``."""
    if layout not in ("test", "training"):
        raise DataPreparationError(f"monuseg layout must be 'test' or 'training', got {layout!r}")
    images = root / ("MoNuSegTestData" if layout == "test" else "MoNuSeg 2018 Training Data/Tissue Images")
    outlines_dir = images if layout == "test" else images.parent / "Annotations"
    for i in range(count):
        rng = _rng(seed, "monuseg", i)
        outlines, nuclei = _nuclei(rng, size)
        image = _render(rng, nuclei.astype(np.int64), [[235, 170, 205], [95, 55, 145]], noise=12)
        code = hashlib.sha256(f"monuseg-{seed}-{i}".encode()).hexdigest().upper()
        name = f"TCGA-{code[:2]}-{code[2:6]}-01A-01-TS1"
        _save_tiff(image, images / f"{name}.tif")
        _aperio_xml(outlines, outlines_dir / f"{name}.xml")


# BraTS intensities per class (background, brain, NCR/NET, ED, ET) and modality (t1, t1ce, t2, flair).
_BRATS_INTENSITY = np.array(
    [[0, 0, 0, 0], [400, 400, 300, 300], [250, 250, 900, 500], [350, 380, 800, 900], [380, 900, 600, 600]],
    dtype=np.float32,
)


def _brats_volume(rng: np.random.Generator, shape: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(H×W×D×4 int16 volume in t1, t1ce, t2, flair order; H×W×D BraTS labels 0/1/2/4)."""
    brain = _ellipses(rng, shape, 1, (0.4, 0.45)) > 0
    grid = np.indices(shape, dtype=np.float32)
    radius = rng.uniform(0.12, 0.18) * min(shape)
    centre = [rng.uniform(0.4, 0.6) * n for n in shape]
    distance = np.sqrt(sum((g - c) ** 2 for g, c in zip(grid, centre, strict=True))) / radius
    seg = np.select([distance < 0.6, distance < 1.0, distance < 1.6], [1, 4, 2], 0).astype(np.uint8) * brain
    classes = np.select([seg == 1, seg == 2, seg == 4, brain], [2, 3, 4, 1], 0)
    return _render(rng, classes, _BRATS_INTENSITY, noise=30, dtype=np.int16), seg


def brats(root: Path, count: int, size: int, seed: int, layout: str = "brats", depth: int | None = None) -> None:
    """Per-case ``BraTS2021_nnnnn/BraTS2021_nnnnn_{t1,t1ce,t2,flair,seg}.nii.gz`` (labels 0/1/2/4), or with
    ``layout="decathlon"`` the Task01 layout: ``imagesTr/BRATS_nnn.nii.gz`` (4-D, FLAIR, T1w, t1gd, T2w),
    ``labelsTr/`` (0 background, 1 edema, 2 non-enhancing, 3 enhancing), unlabelled ``imagesTs/``,
    ``dataset.json`` and the AppleDouble ``._*`` files the real archive carries."""
    if layout not in ("brats", "decathlon"):
        raise DataPreparationError(f"brats layout must be 'brats' or 'decathlon', got {layout!r}")
    shape = (size, size, depth or size)
    affine = np.diag([-1.0, -1.0, 1.0, 1.0])
    extra = 2 if layout == "decathlon" else 0
    for i in range(count + extra):
        volume, seg = _brats_volume(_rng(seed, "brats", i), shape)
        if layout == "brats":
            case = f"BraTS2021_{i:05d}"
            for k, modality in enumerate(("t1", "t1ce", "t2", "flair")):
                _save_nifti(volume[..., k], affine, root / case / f"{case}_{modality}.nii.gz")
            _save_nifti(seg, affine, root / case / f"{case}_seg.nii.gz")
            continue
        case = f"BRATS_{i + 1:03d}"
        decathlon_image = volume[..., [3, 0, 1, 2]].astype(np.float32)
        if i >= count:
            _save_nifti(decathlon_image, np.eye(4), root / "imagesTs" / f"{case}.nii.gz")
            continue
        _save_nifti(decathlon_image, np.eye(4), root / "imagesTr" / f"{case}.nii.gz")
        _save_nifti(np.array([0, 2, 1, 0, 3], np.uint8)[seg], np.eye(4), root / "labelsTr" / f"{case}.nii.gz")
    if layout == "decathlon":
        _decathlon_extras(root, count)


def _decathlon_extras(root: Path, count: int) -> None:
    cases = [f"BRATS_{i + 1:03d}" for i in range(count)]
    dataset = {
        "name": "BRATS",
        "tensorImageSize": "4D",
        "modality": {"0": "FLAIR", "1": "T1w", "2": "t1gd", "3": "T2w"},
        "labels": {"0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour"},
        "numTraining": count,
        "numTest": 2,
        "training": [{"image": f"./imagesTr/{c}.nii.gz", "label": f"./labelsTr/{c}.nii.gz"} for c in cases],
        "test": [f"./imagesTs/BRATS_{count + k + 1:03d}.nii.gz" for k in range(2)],
    }
    (root / "dataset.json").write_text(json.dumps(dataset, indent=4))
    for folder in ("imagesTr", "labelsTr"):
        (root / folder / f"._{cases[0]}.nii.gz").write_bytes(b"\x00\x05\x16\x07" + bytes(160))


def wsi_tiles(root: Path, count: int, size: int, seed: int) -> None:
    """``images/tile_nnn.{tif,png}`` (RGB; even tiles tiled TIFF, odd tiles PNG) + ``masks/tile_nnn.png`` (0/255)."""
    for i in range(count):
        rng = _rng(seed, "wsi_tiles", i)
        regions = _ellipses(rng, (size, size), int(rng.integers(1, 4)), (0.12, 0.25)) > 0
        image = _render(rng, regions.astype(np.int64), [[230, 200, 220], [110, 60, 160]], noise=12)
        if i % 2:
            _save_png(image, root / "images" / f"tile_{i:03d}.png")
        else:
            _save_tiff(image, root / "images" / f"tile_{i:03d}.tif", tile=(16, 16) if size % 16 == 0 else None)
        _save_png(_binary(regions), root / "masks" / f"tile_{i:03d}.png")


def multiclass_microscopy(root: Path, count: int, size: int, seed: int, colour: bool = True) -> None:
    """``images/img_nnn.png`` (grayscale EM-like) + ``masks/img_nnn.png``: colour-coded with
    :data:`SYNTHETIC_PALETTE` (default) or, with ``colour=False``, index images 0 = other, 1 = nucleus,
    2 = mitochondrion."""
    for i in range(count):
        rng = _rng(seed, "multiclass_microscopy", i)
        shape = _wide(size, 400 / 262)
        nucleus = _ellipses(rng, shape, 1, (0.2, 0.3)) > 0
        free = ~ndimage.binary_dilation(nucleus, iterations=3)
        mitochondria = _ellipses(rng, shape, int(rng.integers(3, 7)), (0.04, 0.08), within=free) > 0
        classes = np.where(nucleus, 1, np.where(mitochondria, 2, 0)).astype(np.uint8)
        _save_png(_render(rng, classes.astype(np.int64), [150, 90, 40], noise=10), root / "images" / f"img_{i:03d}.png")
        mask = np.asarray(SYNTHETIC_PALETTE, dtype=np.uint8)[classes] if colour else classes
        _save_png(mask, root / "masks" / f"img_{i:03d}.png")


def folder(
    root: Path, count: int, size: int, seed: int, mask_suffix: str = "_mask", classes: int = 2, grey: bool = False
) -> None:
    """A user's own data: ``images/sample_nnn.{png,jpg}`` (RGB, or grayscale with ``grey``; PNG and JPEG
    alternate) + ``masks/sample_nnn<mask_suffix>.png``: 0/255 masks for ``classes=2``, else index masks 0 … classes-1
    (one class per blob, cycling)."""
    for i in range(count):
        rng = _rng(seed, "folder", i)
        blobs = _ellipses(rng, _wide(size, 4 / 3), max(classes - 1, 3), (0.1, 0.2))
        mask = np.where(blobs > 0, (blobs - 1) % (classes - 1) + 1, 0)
        colours = [[30 + 70 * c, 200 - 60 * c, 90 + 40 * c] for c in range(classes)]
        image = _render(rng, mask.astype(np.int64), np.asarray(colours)[:, :1] if grey else colours, noise=8)
        _save_png(image, root / "images" / f"sample_{i:03d}.{'jpg' if i % 2 else 'png'}", quality=95)
        _save_png(
            _binary(mask) if classes == 2 else mask.astype(np.uint8),
            root / "masks" / f"sample_{i:03d}{mask_suffix}.png",
        )


#: Dataset name → generator ``(root, count, size, seed, **options)``.
GENERATORS: dict[str, Callable[..., None]] = {
    f.__name__: f
    for f in (
        folder,
        isbi2012,
        isic2018,
        glas2015,
        dsb2018,
        lgg,
        murphy,
        cvc_clinicdb,
        brats,
        wsi_tiles,
        multiclass_microscopy,
        isic2017,
        kvasir_seg,
        drosophila_vnc,
        monuseg,
    )
}


def synthesize(dataset: str, dst: str | Path, count: int = 12, size: int = 64, seed: int = 0, **options: Any) -> Path:
    """Write a synthetic copy of ``dataset``'s raw layout to ``dst`` (replaced atomically; an existing ``dst`` must
    be empty or an earlier synthetic copy) and return its path.

    Args:
        dataset: one of :data:`GENERATORS`.
        dst: output folder; pass it to ``prepare`` as ``src``.
        count: number of cases (images; patients for ``lgg``, volumes for ``brats``).
        size: image height in pixels (widths follow each dataset's aspect ratio; BraTS volumes are size³ unless
            ``depth`` is given).
        seed: random seed.
        options: generator options (``layout`` for isbi2012/brats/isic2017/monuseg, ``fmt`` for cvc_clinicdb,
            ``slices`` for lgg, ``depth`` for brats, ``colour`` for multiclass_microscopy, ``mask_suffix``,
            ``classes`` and ``grey`` for folder).
    """
    if dataset not in GENERATORS:
        raise DataPreparationError(f"unknown dataset {dataset!r}; choose one of {', '.join(GENERATORS)}")
    for name, value, low in (("count", count, 1), ("size", size, 16), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise DataPreparationError(f"--{name} must be an integer >= {low}, got {value!r}")
    generator = GENERATORS[dataset]
    valid = [p for p in inspect.signature(generator).parameters if p not in ("root", "count", "size", "seed")]
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise DataPreparationError(f"unknown option(s) {unknown} for synthetic {dataset} (valid: {valid or 'none'})")
    with staged_output(Path(dst), SYNTHETIC_MARKER) as staging:
        generator(staging, count, size, seed, **options)
        (staging / SYNTHETIC_MARKER).write_text(f"{dataset} count={count} size={size} seed={seed} {options}\n")
    return Path(dst).expanduser().resolve()
