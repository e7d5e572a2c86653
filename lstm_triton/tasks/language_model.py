"""Language modelling with truncated backpropagation through time.

Batches are (x, y), both (B, T) int64 token ids, y the next token of x (see
lstm_triton.data.language_model): row b of a batch continues row b of the batch before, so the
LSTM's state (h, c) is carried from batch to batch, detached (gradients stop at the batch
boundary), and reset to zeros when an epoch of a split starts. Train, val and test each carry
their own state, so a validation run in the middle of an epoch does not disturb training's.

Network: embedding (V, E) -> dropout -> LSTM (unidirectional) -> dropout -> linear (H or P -> V),
optionally tied to the embedding (Press & Wolf 2017; needs E == H).

Logged: train/loss per step; val/ and test/ loss, ppl, bpc per epoch. loss is the
cross entropy in nats per token averaged over every token of the split, ppl = exp(loss) and
bpc = loss / ln 2, bits per token: bits per character for a character-level vocabulary (at word
level the same number is bits per word).
"""

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric

from lstm_triton.tasks.base import DEFAULT_OPTIMIZER, SequenceTask, build_lstm, output_features

State = tuple[torch.Tensor, torch.Tensor]
CARRIED_STATE = "language_model_carried_state"


class LanguageModel(SequenceTask):
    """Next-token prediction over (B, T) token ids; see the module docstring."""

    def __init__(
        self,
        vocab_size: int,
        lstm: Mapping[str, Any],
        embedding_dim: int = 128,
        dropout: float = 0.0,
        tie_weights: bool = False,
        optimizer: Mapping[str, Any] = DEFAULT_OPTIMIZER,
        scheduler: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        if lstm.get("bidirectional"):
            raise ValueError(
                "lstm.bidirectional must be false for a language model: the backward direction "
                "would read the very tokens the model has to predict"
            )
        self.lstm = build_lstm(embedding_dim, lstm)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(output_features(self.lstm), vocab_size)
        if tie_weights:
            if output_features(self.lstm) != embedding_dim:
                raise ValueError(
                    f"tie_weights needs embedding_dim equal to the LSTM's output size "
                    f"(proj_size or hidden_size: {output_features(self.lstm)}), got "
                    f"embedding_dim={embedding_dim}"
                )
            self.decoder.weight = self.embedding.weight
        self._init_weights()
        self.mean_loss = nn.ModuleDict({f"{split}_loss": MeanMetric() for split in ("val", "test")})
        self._states: dict[str, State | None] = {"train": None, "val": None, "test": None}

    def _init_weights(self) -> None:
        # As in pytorch/examples' word_language_model: small uniform embeddings and outputs.
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
        if self.decoder.weight is not self.embedding.weight:
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(
        self, tokens: torch.Tensor, state: State | None = None
    ) -> tuple[torch.Tensor, State]:
        """tokens (B, T) int64 and state (h, c), each (L * D, B, H), or None ->
        logits (B, T, V) and the new state."""
        y, state = self.lstm(self.dropout(self.embedding(tokens)), state)
        return self.decoder(self.dropout(y)), state

    def _step(self, split: str, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        state = self._states[split]
        if state is not None and state[0].size(1) != x.size(0):
            state = None
        elif state is not None and state[0].device != x.device:  # restored from a checkpoint
            state = (state[0].to(x.device), state[1].to(x.device))
        logits, state = self(x, state)
        self._states[split] = (state[0].detach(), state[1].detach())
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))

    def training_step(self, batch, batch_idx: int) -> torch.Tensor:
        loss = self._step("train", batch)
        # sync_dist: the mean over every DDP process's rows of the batch.
        self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True, sync_dist=True)
        return loss

    def validation_step(self, batch, batch_idx: int) -> None:
        self.mean_loss["val_loss"].update(self._step("val", batch), batch[1].numel())

    def test_step(self, batch, batch_idx: int) -> None:
        self.mean_loss["test_loss"].update(self._step("test", batch), batch[1].numel())

    def on_train_epoch_start(self) -> None:
        self._states["train"] = None

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # The state carried between training batches, so that a run resumed in the middle of
        # an epoch continues it. Each DDP process carries its own rows and a checkpoint holds
        # one process's, so it is kept for a single process only (under DDP a resumed epoch
        # goes on from zeros).
        state = self._states["train"]
        if state is not None and self.trainer.world_size == 1:
            checkpoint[CARRIED_STATE] = [s.cpu() for s in state]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Lightning calls on_train_epoch_start (which resets the state) when an epoch starts,
        # not when it resumes one in the middle: the resumed epoch goes on from this state.
        state = checkpoint.get(CARRIED_STATE)
        self._states["train"] = None if state is None else tuple(state)

    def on_validation_epoch_start(self) -> None:
        self._states["val"] = None

    def on_test_epoch_start(self) -> None:
        self._states["test"] = None

    def on_validation_epoch_end(self) -> None:
        self._log_split("val")

    def on_test_epoch_end(self) -> None:
        self._log_split("test")

    def _log_split(self, split: str) -> None:
        mean_loss = self.mean_loss[f"{split}_loss"]
        # Already the mean over every DDP process's tokens (torchmetrics syncs in compute()), so
        # no sync_dist below, whatever Lightning's warning about epoch-level logging says.
        loss = mean_loss.compute()
        mean_loss.reset()
        self.log(f"{split}/loss", loss)
        self.log(f"{split}/ppl", torch.exp(loss), prog_bar=split == "val")
        self.log(f"{split}/bpc", loss / math.log(2), prog_bar=split == "val")

    @torch.no_grad()
    def generate(
        self,
        prompt: torch.Tensor,
        num_tokens: int,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Sample num_tokens ids (num_tokens,) after prompt ids (N,), N >= 1, one at a time from
        softmax(logits / temperature); temperature 0 takes the most likely token."""
        if prompt.dim() != 1 or prompt.numel() == 0:
            raise ValueError(
                f"prompt must be 1-D token ids (N,), N >= 1, got {tuple(prompt.shape)}"
            )
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        was_training = self.training
        self.eval()
        logits, state = self(prompt.to(self.device).unsqueeze(0))
        sampled = []
        for _ in range(num_tokens):
            last = logits[0, -1].float()
            if temperature == 0:
                token = last.argmax().view(1)
            else:
                probs = torch.softmax(last / temperature, dim=-1)
                token = torch.multinomial(probs.cpu(), 1, generator=generator).to(self.device)
            sampled.append(token)
            logits, state = self(token.view(1, 1), state)
        self.train(was_training)
        return torch.cat(sampled).cpu() if sampled else prompt.new_empty(0)
