"""The JSON-configurable progress bar shows the trainer's loss on a real MONAI trainer run."""

import torch
from monai.engines import SupervisedTrainer

from custom_networks.handlers import ProgressBar


def test_progress_bar_shows_loss(capsys):
    net = torch.nn.Conv2d(1, 1, 1)
    data = [{"image": torch.rand(2, 1, 4, 4), "label": torch.rand(2, 1, 4, 4)} for _ in range(3)]
    trainer = SupervisedTrainer(
        device=torch.device("cpu"),
        max_epochs=1,
        train_data_loader=data,
        network=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
        loss_function=torch.nn.MSELoss(),
        train_handlers=[ProgressBar(persist=True)],
    )
    trainer.run()
    err = capsys.readouterr().err
    assert "[3/3]" in err and "loss=" in err
