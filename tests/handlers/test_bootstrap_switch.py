"""BootstrapSwitch in real SupervisedTrainer runs: the right epochs, a fresh run, a run resumed from a checkpoint."""

from pathlib import Path

import pytest
import torch
from monai.data import DataLoader
from monai.engines import SupervisedTrainer
from monai.engines.utils import IterationEvents
from monai.handlers import CheckpointLoader, CheckpointSaver

from custom_networks.handlers import BootstrapSwitch
from custom_networks.losses import BootstrappedWeightedCELoss, CenterCropLoss

START_EPOCH = 2


def _trainer(loss: BootstrappedWeightedCELoss, max_epochs: int) -> SupervisedTrainer:
    g = torch.Generator().manual_seed(0)
    data = [
        {"image": torch.rand(1, 6, 6, generator=g), "label": torch.randint(0, 2, (1, 6, 6), generator=g)}
        for _ in range(4)
    ]
    network = torch.nn.Conv2d(1, 2, kernel_size=1)
    return SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=max_epochs,
        train_data_loader=DataLoader(data, batch_size=2),
        network=network,
        optimizer=torch.optim.SGD(network.parameters(), lr=0.1),
        loss_function=loss,
        train_handlers=[BootstrapSwitch(loss, start_epoch=START_EPOCH)],
    )


def _record_flag(trainer: SupervisedTrainer, loss: BootstrappedWeightedCELoss) -> dict[int, set[bool]]:
    """Flags the loss had when it was computed, by epoch."""
    flags: dict[int, set[bool]] = {}
    trainer.add_event_handler(
        IterationEvents.LOSS_COMPLETED, lambda e: flags.setdefault(e.state.epoch, set()).add(loss.bootstrap)
    )
    return flags


def test_active_after_start_epoch_and_off_in_a_fresh_run():
    loss = BootstrappedWeightedCELoss()
    trainer = _trainer(loss, max_epochs=4)
    flags = _record_flag(trainer, loss)
    trainer.run()
    assert flags == {1: {False}, 2: {False}, 3: {True}, 4: {True}}
    assert loss.bootstrap  # left on by the last epoch
    fresh = _trainer(loss, max_epochs=1)
    flags = _record_flag(fresh, loss)
    fresh.run()
    assert flags == {1: {False}}


@pytest.mark.parametrize("saved_epoch, expected", [(3, {4: {True}, 5: {True}}), (1, {2: {False}, 3: {True}})])
def test_resumed_from_checkpoint(tmp_path: Path, saved_epoch, expected):
    loss = BootstrappedWeightedCELoss()
    trainer = _trainer(loss, max_epochs=saved_epoch)
    CheckpointSaver(str(tmp_path), {"trainer": trainer}, save_final=True).attach(trainer)
    trainer.run()
    (checkpoint,) = tmp_path.glob("*.pt")

    resumed_loss = BootstrappedWeightedCELoss()
    resumed = _trainer(resumed_loss, max_epochs=max(expected))
    CheckpointLoader(str(checkpoint), {"trainer": resumed}).attach(resumed)
    flags = _record_flag(resumed, resumed_loss)
    resumed.run()
    assert flags == expected


def test_needs_the_flag_holder():
    with pytest.raises(AttributeError, match="inner loss"):
        BootstrapSwitch(CenterCropLoss(BootstrappedWeightedCELoss(), margin=1), start_epoch=1)
