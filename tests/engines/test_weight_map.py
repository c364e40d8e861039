"""WeightMapLoss and WeightMapHandler inside real SupervisedTrainer runs, built directly and from a bundle-style
config."""

import pytest
import torch
from monai.bundle import ConfigParser
from monai.data import DataLoader
from monai.engines import SupervisedTrainer
from monai.engines.utils import IterationEvents
from monai.utils import CommonKeys

from custom_networks.engines import WeightMapHandler, WeightMapLoss
from custom_networks.losses import TanimotoLoss


def _trainer(weight: torch.Tensor | None, loss: TanimotoLoss, **kwargs) -> SupervisedTrainer:
    g = torch.Generator().manual_seed(0)
    data = [
        {"image": torch.rand(1, 6, 7, generator=g), "label": torch.randint(0, 3, (1, 6, 7), generator=g)}
        for _ in range(4)
    ]
    if weight is not None:
        data = [dict(item, weight=weight[i]) for i, item in enumerate(data)]
    network = torch.nn.Conv2d(1, 3, kernel_size=1)
    weight_map_loss = WeightMapLoss(loss)
    return SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=1,
        train_data_loader=DataLoader(data, batch_size=2),
        network=network,
        optimizer=torch.optim.SGD(network.parameters(), lr=0.5),
        loss_function=weight_map_loss,
        train_handlers=[WeightMapHandler(weight_map_loss, "weight")],
        **kwargs,
    )


def test_loss_receives_the_batch_weight_map():
    loss = TanimotoLoss(softmax=True, to_onehot_y=True)
    weight = torch.rand(4, 1, 6, 7) + 0.1
    trainer = _trainer(weight, loss)
    checked = []

    def check(engine: SupervisedTrainer) -> None:
        out = engine.state.output
        expected = loss(out[CommonKeys.PRED], out[CommonKeys.LABEL], weight=engine.state.batch["weight"])
        torch.testing.assert_close(out[CommonKeys.LOSS], expected)
        assert out[CommonKeys.LOSS] != loss(out[CommonKeys.PRED], out[CommonKeys.LABEL])
        checked.append(engine.state.iteration)

    trainer.add_event_handler(IterationEvents.LOSS_COMPLETED, check)
    trainer.run()
    assert checked == [1, 2]
    assert trainer.loss_function.weight is None  # released after each iteration


def _record_losses(trainer: SupervisedTrainer) -> list[float]:
    losses: list[float] = []
    trainer.add_event_handler(
        IterationEvents.LOSS_COMPLETED, lambda e: losses.append(e.state.output[CommonKeys.LOSS].item())
    )
    return losses


def test_zero_weight_map_trains_nothing():
    # with zero weights both Tanimoto coefficients are s / s = 1: loss 0, no gradient, the network is unchanged
    zero = _trainer(torch.zeros(4, 1, 6, 7), TanimotoLoss(softmax=True, to_onehot_y=True))
    before = [p.detach().clone() for p in zero.network.parameters()]
    losses = _record_losses(zero)
    zero.run()
    assert losses == [0.0, 0.0]
    assert all(torch.equal(b, p) for b, p in zip(before, zero.network.parameters(), strict=True))
    ones = _trainer(torch.ones(4, 1, 6, 7), TanimotoLoss(softmax=True, to_onehot_y=True))
    ones.run()
    assert not all(torch.equal(b, p) for b, p in zip(before, ones.network.parameters(), strict=True))


def test_missing_weight_map():
    with pytest.raises(KeyError, match="weight"):
        _trainer(None, TanimotoLoss(softmax=True, to_onehot_y=True)).run()


CONFIG = {
    "imports": ["$import torch"],
    "network": {"_target_": "torch.nn.Conv2d", "in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": 1},
    "loss": {
        "_target_": "custom_networks.losses.CenterCropLoss",
        "loss": {"_target_": "custom_networks.losses.BootstrappedWeightedCELoss"},
        "margin": 2,
    },
    "train": {
        "preprocessing": {
            "_target_": "Compose",
            "transforms": [
                {"_target_": "custom_networks.transforms.FuzzyBoundaryWeightsd", "keys": "label", "kernel_size": 5}
            ],
        },
        "dataset": {
            "_target_": "Dataset",
            "data": "$[{'image': torch.rand(1, 12, 12), 'label': torch.rand(1, 12, 12).round()} for _ in range(4)]",
            "transform": "@train#preprocessing",
        },
        "weight_map_loss": {"_target_": "custom_networks.engines.WeightMapLoss", "loss": "@loss"},
        "handlers": [
            {"_target_": "custom_networks.handlers.BootstrapSwitch", "loss": "@loss#loss", "start_epoch": 1},
            {
                "_target_": "custom_networks.engines.WeightMapHandler",
                "loss": "@train#weight_map_loss",
                "weight_key": "weight",
            },
        ],
        "trainer": {
            "_target_": "SupervisedTrainer",
            "device": "$torch.device('cpu')",
            "max_epochs": 2,
            "train_data_loader": {"_target_": "DataLoader", "dataset": "@train#dataset", "batch_size": 2},
            "network": "@network",
            "optimizer": {"_target_": "torch.optim.Adam", "params": "$@network.parameters()", "lr": 1e-3},
            "loss_function": "@train#weight_map_loss",
            "train_handlers": "@train#handlers",
        },
    },
}


def test_bundle_config():
    parser = ConfigParser(CONFIG)
    trainer = parser.get_parsed_content("train#trainer")
    loss, inner = parser.get_parsed_content("loss"), parser.get_parsed_content("loss#loss")
    assert loss.loss is inner  # "@loss#loss" is the wrapped instance
    flags = []

    def check(engine: SupervisedTrainer) -> None:
        out, weight = engine.state.output, engine.state.batch["weight"]  # the fuzzy-boundary map
        torch.testing.assert_close(out[CommonKeys.LOSS], loss(out[CommonKeys.PRED], out[CommonKeys.LABEL], weight))
        flags.append((engine.state.epoch, inner.bootstrap))

    trainer.add_event_handler(IterationEvents.LOSS_COMPLETED, check)
    trainer.run()
    assert flags == [(1, False), (1, False), (2, True), (2, True)]
