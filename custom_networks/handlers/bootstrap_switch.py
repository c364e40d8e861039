"""Ignite handler turning MS U-Net's bootstrapping loss term on after the first epochs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ignite.engine import Events

if TYPE_CHECKING:
    from ignite.engine import Engine

__all__ = ["BootstrapSwitch"]


class BootstrapSwitch:
    """
    Sets ``loss.bootstrap`` at the start of every epoch to ``engine.state.epoch > start_epoch`` (epochs count from
    1), so the bootstrapping term of :py:class:`custom_networks.losses.BootstrappedWeightedCELoss` is active from
    epoch ``start_epoch + 1`` on. The flag is decided from the engine's epoch alone: a fresh run starts with it off,
    and a run resumed from a checkpointed engine state gets the flag of the epoch it resumes at.

    Kurian, Lohan et al., "Deep Multi-Scale U-Net Architecture and Label-Noise Robust Training Strategies for
    Histopathological Image Segmentation", Section III-D, Eq. (4): 1[epoch > n].

    Args:
        loss: the object holding the ``bootstrap`` flag (the inner loss when it is wrapped, e.g. in
            :py:class:`custom_networks.losses.CenterCropLoss`).
        start_epoch: n, the number of epochs trained without bootstrapping.

    Raises:
        AttributeError: When ``loss`` has no ``bootstrap`` attribute.
    """

    def __init__(self, loss: Any, start_epoch: int) -> None:
        if not hasattr(loss, "bootstrap"):
            raise AttributeError(f"{type(loss).__name__} has no `bootstrap` flag to switch; pass the inner loss.")
        self.loss = loss
        self.start_epoch = start_epoch

    def attach(self, engine: Engine) -> None:
        """
        Args:
            engine: the Ignite trainer whose epochs decide the flag.
        """
        engine.add_event_handler(Events.EPOCH_STARTED, self)

    def __call__(self, engine: Engine) -> None:
        """
        Args:
            engine: the Ignite trainer whose epochs decide the flag.
        """
        self.loss.bootstrap = engine.state.epoch > self.start_epoch
