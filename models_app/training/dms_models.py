"""The DMS models: a one-hot ridge baseline and a small 1-D CNN, plus the torch training loop.

The CNN keeps position information (convolution over the sequence, then a dense head over all
positions) because mutational effects are position-specific; the shared convolution lets it
reuse what it learned about a substitution at one site for others, which one-hot ridge cannot.
"""

import numpy as np
from sklearn.linear_model import Ridge


def fit_ridge(x_train: np.ndarray, y_train: np.ndarray, alpha: float = 1.0) -> Ridge:
    """Ridge on the flattened one-hot sequence (the ProteinGym "one-hot" baseline)."""
    model = Ridge(alpha=alpha)
    model.fit(x_train.reshape(len(x_train), -1), y_train)
    return model


def predict_ridge(model: Ridge, x: np.ndarray) -> np.ndarray:
    return model.predict(x.reshape(len(x), -1))


def cnn_factory(seq_len: int, vocab_size: int, params: dict):
    import torch
    from torch import nn

    channels = int(params.get("channels", 32))
    kernel = int(params.get("kernel_size", 5))
    hidden = int(params.get("hidden", 64))

    class DMSConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(vocab_size, channels, kernel, padding=kernel // 2)
            self.head = nn.Sequential(
                nn.Flatten(), nn.Dropout(0.1), nn.Linear(channels * seq_len, hidden), nn.ReLU(), nn.Linear(hidden, 1)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (N, L, V)
            h = torch.relu(self.conv(x.transpose(1, 2)))
            return self.head(h).squeeze(-1)

    return DMSConvNet()


def fit_torch(
    model, x_train, y_train, x_val, y_val, *, epochs: int, lr: float, batch_size: int, seed: int, on_epoch, device="cpu"
):
    """Adam on MSE of standardised scores; keeps the weights of the best validation epoch.

    ``on_epoch(epoch, train_loss, val_loss, val_pred)`` is called after every epoch (progress,
    live chart, cancellation). Returns a function mapping one-hot arrays to predicted scores.
    """
    import torch

    torch.manual_seed(seed)
    mean, std = float(y_train.mean()), float(y_train.std() or 1.0)
    model.to(device)
    xt = torch.as_tensor(x_train, dtype=torch.float32, device=device)
    yt = torch.as_tensor((y_train - mean) / std, dtype=torch.float32, device=device)
    xv = torch.as_tensor(x_val, dtype=torch.float32, device=device)
    yv = torch.as_tensor((y_val - mean) / std, dtype=torch.float32, device=device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=1e-5)
    generator = torch.Generator().manual_seed(seed)
    best = (float("inf"), None)
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(xt), generator=generator).to(device).split(batch_size):
            optimizer.zero_grad()
            loss = torch.mean((model(xt[idx]) - yt[idx]) ** 2)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            val_out = model(xv)
            val_loss = float(torch.mean((val_out - yv) ** 2))
        if val_loss < best[0]:
            best = (val_loss, {k: v.detach().clone() for k, v in model.state_dict().items()})
        on_epoch(epoch, total / len(xt), val_loss, val_out.cpu().numpy() * std + mean)
    if best[1] is not None:
        model.load_state_dict(best[1])
    model.eval()

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.as_tensor(x, dtype=torch.float32, device=device)).cpu().numpy() * std + mean

    return predict
