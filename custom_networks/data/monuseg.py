"""MoNuSeg 2018 (Kumar et al. 2017, 2020): H&E tiles with nucleus outlines as Aperio ImageScope XML polygons."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from custom_networks.data.base import Converted, PlanarConverter, Sample
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import index_by_key, list_files, locate, pair_by_key
from custom_networks.data.images import write_image
from custom_networks.data.labels import polygon_instances

__all__ = ["MoNuSeg", "read_polygons"]

TEST = "MoNuSegTestData"
TRAINING = "MoNuSeg 2018 Training Data"
ANNOTATIONS = "Annotations"
_TISSUE_NAMES = ("Tissue Images", "Tissue_Images")
_TIFF = (".tif", ".tiff")
INSTANCES = "instances"


def _vertices(region: ElementTree.Element, path: Path) -> np.ndarray:
    """The outline of one ``Region`` as an N×2 array of (x, y); fewer than 3 or non-numeric vertices are errors."""
    ident = region.get("Id", "without Id")
    try:
        points = np.array(
            [[float(v.get("X")), float(v.get("Y"))] for v in region.iterfind("Vertices/Vertex")], dtype=np.float64
        ).reshape(-1, 2)
    except (TypeError, ValueError) as exc:
        raise DataPreparationError(f"region {ident}: non-numeric or missing vertex coordinates", path) from exc
    if not np.isfinite(points).all():
        raise DataPreparationError(f"region {ident}: non-finite vertex coordinates", path)
    if len(points) < 3:
        raise DataPreparationError(f"region {ident}: {len(points)} vertices, a polygon needs at least 3", path)
    return points


def read_polygons(path: Path) -> list[np.ndarray]:
    """The nucleus outlines of an Aperio ImageScope XML file (``Annotations/Annotation/Regions/Region/Vertices/
    Vertex X= Y=``, pixel coordinates), in document order, as N×2 arrays of (x, y)."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        raise DataPreparationError(f"unreadable file ({type(exc).__name__}: {exc})", path) from exc
    if root.tag != "Annotations":
        raise DataPreparationError(f"not an Aperio annotation file (root <{root.tag}>, expected <Annotations>)", path)
    return [_vertices(region, path) for region in root.iterfind("Annotation/Regions/Region")]


def _tissue(folder: Path) -> Path | None:
    return next((folder / n for n in _TISSUE_NAMES if (folder / n).is_dir()), None)


def _is_training(folder: Path) -> bool:
    return (folder / ANNOTATIONS).is_dir() and _tissue(folder) is not None


def _is_flat(folder: Path) -> bool:
    return bool(list_files(folder, _TIFF)) and bool(list_files(folder, (".xml",)))


def _patient(name: str) -> str:
    """The TCGA patient barcode of a tile (``TCGA-2Z-A9J9`` of ``TCGA-2Z-A9J9-01A-01-TS1``), else the name."""
    parts = name.split("-")
    return "-".join(parts[:3]) if len(parts) > 3 and parts[0] == "TCGA" else name


class MoNuSeg(PlanarConverter):
    """MoNuSeg 2018: the test release ``MoNuSegTestData/<id>.tif`` + ``<id>.xml`` side by side, and/or the training
    release ``MoNuSeg 2018 Training Data/Tissue Images/<id>.tif`` + ``Annotations/<id>.xml`` (``Tissue_Images``
    also accepted); every part present is read (``subset``: training or test). Tiles are 1000² RGB H&E TIFFs
    (→ PNG); the XML holds one polygon per nucleus and no mask image comes with the release.

    Rasterisation: each polygon (vertex coordinates in pixels, clipped to the tile) covers the pixels whose centres
    lie inside it or on its outline (``skimage.draw.polygon``). The label is the union of all polygons (0
    background, 1 nucleus), so overlapping nuclei simply merge there. Instances are kept in
    ``instances/<id>.png`` (16-bit, ``instance_map`` in the datalist): polygon i of the XML (document order,
    from 1) is value i, and where polygons overlap the pixel stays with the earlier one (later polygons never
    overwrite). A region with fewer than 3 vertices or a non-numeric coordinate is an error naming the file and
    the region Id.

    Split by patient (``patient``: the TCGA barcode, the first three parts of the tile name); MoNuSeg took one
    tile per patient, so this is a split by tile that also keeps any added tiles of a patient together. The seven
    organs are not grouped: a test-set subset has one tile per organ.
    """

    name = "monuseg"
    description = "MoNuSeg 2018 H&E multi-organ nuclei (RGB, binary nucleus masks rasterised from XML polygons)"
    layout = f"{TEST}/<id>.tif + <id>.xml, or {TRAINING}/Tissue Images/<id>.tif + {ANNOTATIONS}/<id>.xml"
    classes = {0: "background", 1: "nucleus"}
    channel_names = ("R", "G", "B")

    def __init__(self) -> None:
        super().__init__()
        self._instances: dict[str, np.ndarray] = {}

    def find(self, src: Path) -> list[Sample]:
        training, test = locate(src, _is_training), locate(src, _is_flat)
        samples = self._pairs(_tissue(training), training / ANNOTATIONS, "training") if training else []
        return samples + (self._pairs(test, test, "test") if test else [])

    @staticmethod
    def _pairs(image_dir: Path, xml_dir: Path, subset: str) -> list[Sample]:
        images = index_by_key(list_files(image_dir, _TIFF))
        outlines = index_by_key(list_files(xml_dir, (".xml",)))
        keys = pair_by_key(images, outlines, lambda key: str(xml_dir / f"{key}.xml"))
        return [
            Sample(
                name=key,
                image=images[key],
                label=outlines[key],
                group=_patient(key),
                extra={
                    "case": key,
                    "subset": subset,
                    "patient": _patient(key),
                    "instance_map": f"{INSTANCES}/{key}.png",
                },
            )
            for key in keys
        ]

    def read_label(self, sample: Sample, shape: tuple[int, int]) -> np.ndarray:
        instances = polygon_instances(read_polygons(sample.label), shape)
        self._instances[sample.name] = instances
        return (instances > 0).astype(np.uint8)

    def convert(self, sample: Sample, out: Path) -> Converted:
        converted = super().convert(sample, out)
        write_image(self._instances.pop(sample.name), sample.label, out / INSTANCES / sample.name, unchanged=False)
        return converted
