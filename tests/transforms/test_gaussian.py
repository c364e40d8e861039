"""opencv_gaussian_sigma: OpenCV's sigma rule, and the kernel OpenCV builds from it."""

import cv2
import numpy as np
import pytest

from custom_networks.transforms.gaussian import opencv_gaussian_sigma


@pytest.mark.parametrize(("kernel_size", "sigma"), [(1, 0.5), (3, 0.8), (5, 1.1), (21, 3.5), (61, 9.5)])
def test_known_values(kernel_size, sigma):
    assert opencv_gaussian_sigma(kernel_size) == pytest.approx(sigma)


@pytest.mark.parametrize("kernel_size", [11, 21, 61])
def test_opencv_default_kernel_is_the_gaussian_of_this_sigma(kernel_size):
    """Beyond OpenCV's tabulated small kernels, ``getGaussianKernel(k, 0)`` is the Gaussian of this sigma."""
    default = cv2.getGaussianKernel(kernel_size, 0, ktype=cv2.CV_64F)
    np.testing.assert_allclose(
        default, cv2.getGaussianKernel(kernel_size, opencv_gaussian_sigma(kernel_size), ktype=cv2.CV_64F), atol=1e-12
    )
