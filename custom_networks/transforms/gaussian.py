"""OpenCV's default Gaussian sigma for a kernel size, which the papers' blurs use."""

__all__ = ["opencv_gaussian_sigma"]


def opencv_gaussian_sigma(kernel_size: int) -> float:
    """Standard deviation OpenCV gives a Gaussian kernel of size ``kernel_size`` when sigma is not positive
    (``cv2.getGaussianKernel``, ``cv2.GaussianBlur``): σ = 0.3·((k − 1)·0.5 − 1) + 0.8, e.g. 3 → 0.8, 21 → 3.5.

    For the smallest sizes (up to 7, or 9 in OpenCV 5) ``cv2.getGaussianKernel(k, 0)`` returns fixed tabulated kernels
    instead of the Gaussian of this sigma.

    Args:
        kernel_size: odd kernel size k.
    """
    return 0.3 * ((kernel_size - 1) * 0.5 - 1) + 0.8
