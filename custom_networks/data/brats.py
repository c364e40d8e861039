"""BraTS brain tumours: per-case folders (BraTS 2017–2021) or the Medical Segmentation Decathlon Task01 layout.

Output per case: ``images/<case>.nii.gz``, one H×W×D×4 volume with channels T1, T1ce, T2, FLAIR (channels last,
as in the Decathlon, so MONAI's ``EnsureChannelFirstd`` moves them first), and ``labels/<case>.nii[.gz]`` in the
BraTS convention 0 = background, 1 = necrotic / non-enhancing core (NCR/NET), 2 = edema (ED), 4 = enhancing tumour
(ET), ready for MONAI's ``ConvertToMultiChannelBasedOnBratsClassesd`` (TC = 1 ∪ 4, WT = 1 ∪ 2 ∪ 4, ET = 4).

- Per-case release: the four modality volumes are stacked; the segmentation is copied unchanged (after checks).
- Decathlon Task01: channels are reordered from the Decathlon order (read from ``dataset.json``: FLAIR, T1w,
  t1gd, T2w) and labels are mapped to the BraTS convention (1 edema → 2, 2 non-enhancing tumour → 1,
  3 enhancing tumour → 4), so both layouts give the same datalist and one bundle config serves both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nibabel as nib
import numpy as np

from custom_networks.data.base import Converted, Converter, Sample, paired_samples
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.files import is_visible, list_files, locate, natural_key, require_dirs, stem
from custom_networks.data.images import read_nifti
from custom_networks.data.labels import check_same_size, check_values, class_pixels

__all__ = ["BRATS_LABELS", "DECATHLON_TO_BRATS", "MODALITIES", "Brats"]

MODALITIES = ("t1", "t1ce", "t2", "flair")
BRATS_LABELS = (0, 1, 2, 4)
#: Decathlon label value → BraTS label value.
DECATHLON_TO_BRATS = np.array([0, 2, 1, 4], dtype=np.uint8)
_DECATHLON_ORDER = ("flair", "t1", "t1ce", "t2")
_ALIASES = {
    "flair": "flair",
    "t1": "t1",
    "t1w": "t1",
    "t1gd": "t1ce",
    "t1ce": "t1ce",
    "t1c": "t1ce",
    "t2": "t2",
    "t2w": "t2",
}
_NIFTI = (".nii.gz", ".nii")


def _nifti(folder: Path, name: str) -> Path | None:
    return next((folder / f"{name}{s}" for s in _NIFTI if (folder / f"{name}{s}").is_file()), None)


def _save(array: np.ndarray, like: nib.Nifti1Image, path: Path) -> Path:
    """Write ``array`` with the affine, voxel size and units of ``like``."""
    img = nib.Nifti1Image(array, like.affine)
    img.header.set_xyzt_units(*like.header.get_xyzt_units())
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, path)
    return path


class Brats(Converter):
    """BraTS: ``<case>/<case>_{t1,t1ce,t2,flair,seg}.nii.gz`` (any depth; ``.nii`` too) or Decathlon Task01
    ``imagesTr/BRATS_nnn.nii.gz`` (4-D) + ``labelsTr/`` + ``dataset.json``, detected automatically. One case is
    one patient: it is the split unit. Decathlon ``imagesTs/`` has no labels and is not used."""

    name = "brats"
    description = "BraTS multimodal brain MRI tumour segmentation (4 channels T1, T1ce, T2, FLAIR; labels 0,1,2,4)"
    layout = "<case>/<case>_{t1,t1ce,t2,flair,seg}.nii.gz, or Decathlon imagesTr/ + labelsTr/ + dataset.json"
    classes = {0: "background", 1: "NCR/NET", 2: "ED", 4: "ET"}
    channel_names = ("T1", "T1ce", "T2", "FLAIR")

    def __init__(self) -> None:
        super().__init__()
        self.decathlon_order: list[int] | None = None  # Decathlon channel index of T1, T1ce, T2, FLAIR

    def find(self, src: Path) -> list[Sample]:
        root = locate(src, lambda d: (d / "imagesTr").is_dir() or (d / "dataset.json").is_file())
        return self._find_decathlon(root) if root is not None else self._find_cases(src)

    def _find_cases(self, src: Path) -> list[Sample]:
        flairs = [p for p in src.rglob("*_flair.nii*") if p.name.endswith(_NIFTI) and _visible_below(p, src)]
        samples: dict[str, Sample] = {}
        for flair in sorted(flairs, key=lambda p: natural_key(str(p))):
            case = stem(flair)[: -len("_flair")]
            if case in samples:
                raise DataPreparationError(f"case {case} found twice (also in {samples[case].image})", flair.parent)
            parts = []
            for modality in MODALITIES:
                path = _nifti(flair.parent, f"{case}_{modality}")
                if path is None:
                    raise DataPreparationError(f"missing {modality} volume ({case}_{modality}.nii.gz)", flair.parent)
                parts.append(path)
            seg = _nifti(flair.parent, f"{case}_seg")
            if seg is None:
                raise DataPreparationError(f"image has no label (expected {case}_seg.nii.gz)", flair.parent)
            samples[case] = Sample(case, flair.parent, seg, case, {"case": case, "patient": case}, parts=tuple(parts))
        return list(samples.values())

    def _find_decathlon(self, root: Path) -> list[Sample]:
        images, labels = require_dirs(root, "imagesTr", "labelsTr")
        self.decathlon_order = self._channel_order(root / "dataset.json")
        self.notes.append(
            "Decathlon Task01 layout: channels reordered to T1, T1ce, T2, FLAIR; labels mapped 1→2 (edema), "
            "2→1 (non-enhancing), 3→4 (enhancing)"
        )
        if (root / "imagesTs").is_dir():
            self.notes.append(f"{root / 'imagesTs'}: {len(list_files(root / 'imagesTs', _NIFTI))} unlabelled, not used")
        samples = paired_samples(images, labels, image_suffixes=_NIFTI, label_suffixes=_NIFTI)
        return [Sample(s.name, s.image, s.label, s.name, {"case": s.name, "patient": s.name}) for s in samples]

    def _channel_order(self, dataset_json: Path) -> list[int]:
        if not dataset_json.is_file():
            self.notes.append(f"{dataset_json} not found: assumed the Decathlon channel order FLAIR, T1w, t1gd, T2w")
            return [_DECATHLON_ORDER.index(m) for m in MODALITIES]
        try:
            modality = json.loads(dataset_json.read_text(encoding="utf-8"))["modality"]
            names = {_ALIASES[str(v).strip().lower()]: int(k) for k, v in modality.items()}
            return [names[m] for m in MODALITIES]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DataPreparationError(
                f'cannot read the modality order (expected "modality" naming FLAIR, T1w, t1gd, T2w): {exc!r}',
                dataset_json,
            ) from exc

    def convert(self, sample: Sample, out: Path) -> Converted:
        if self.decathlon_order is None:
            image, like = self._stack_modalities(sample)
        else:
            image, like = read_nifti(sample.image)
            if image.ndim != 4 or image.shape[-1] != 4:
                raise DataPreparationError(f"wrong channel count: shape {image.shape}, expected H×W×D×4", sample.image)
            image = image[..., self.decathlon_order]
        label, label_img = read_nifti(sample.label)
        check_same_size(image.shape[:3], label.shape, sample.label)
        image_file = _save(image, like, out / "images" / f"{sample.name}.nii.gz")
        if self.decathlon_order is None:
            check_values(label, BRATS_LABELS, sample.label)
            label_file = out / "labels" / f"{sample.name}{next(s for s in _NIFTI if sample.label.name.endswith(s))}"
            label_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sample.label, label_file)
        else:
            label = DECATHLON_TO_BRATS[check_values(label, range(4), sample.label).astype(np.int64)]
            label_file = _save(label, label_img, out / "labels" / f"{sample.name}.nii.gz")
        return Converted(image_file, label_file, image.shape[:3], 4, class_pixels(label))

    @staticmethod
    def _stack_modalities(sample: Sample) -> tuple[np.ndarray, nib.Nifti1Image]:
        volumes, images = zip(*(read_nifti(path) for path in sample.parts), strict=True)
        first = sample.parts[0]
        for path, volume, img in zip(sample.parts, volumes, images, strict=True):
            if volume.ndim != 3:
                raise DataPreparationError(
                    f"wrong channel count: expected a 3-D volume, got shape {volume.shape}", path
                )
            check_same_size(volumes[0].shape, volume.shape, path, "volume")
            if not np.allclose(img.affine, images[0].affine, atol=1e-3):
                raise DataPreparationError(f"not aligned with {first.name} (different affine)", path)
        stacked = np.stack(volumes, axis=-1).astype(np.result_type(*volumes), copy=False)
        return stacked, images[0]


def _visible_below(path: Path, top: Path) -> bool:
    return all(is_visible(Path(part)) for part in path.relative_to(top).parts)
