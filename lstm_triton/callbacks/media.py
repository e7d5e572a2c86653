"""What a run shows besides numbers, one callback per task family: text sampled from a language
model, the test confusion matrix of a classifier, a forecast plot. Each writes its result into
the run's folder (trainer.default_root_dir), where media_files() finds them for the closing
report, and into W&B when a WandbLogger is on."""

import csv
import logging
from pathlib import Path

import lightning as L
import torch
import wandb
from matplotlib.figure import Figure

from lstm_triton.tracking import wandb_run

log = logging.getLogger(__name__)


def _log_to_wandb(trainer: L.Trainer, media: dict) -> None:
    run = wandb_run(trainer)
    if run is not None:
        run.log({**media, "trainer/global_step": trainer.global_step})


class MediaWriter(L.Callback):
    """A callback that writes files into the run's folder; `written` lists them, in order."""

    def __init__(self) -> None:
        self.written: list[Path] = []

    def run_file(self, trainer: L.Trainer, name: str) -> Path:
        """The path of file `name` in the run's folder (created), recorded in `written`."""
        path = Path(trainer.default_root_dir) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path not in self.written:
            self.written.append(path)
        return path


def media_files(trainer: L.Trainer) -> list[Path]:
    """The files the trainer's media callbacks wrote (on this process: process 0's)."""
    return [path for cb in trainer.callbacks if isinstance(cb, MediaWriter) for path in cb.written]


def _require(owner: object, attribute: str, who: str, what: str):
    value = getattr(owner, attribute, None)
    if value is None:
        raise TypeError(f"{who} needs {what}.{attribute}, which {type(owner).__name__} lacks")
    return value


class TextSampler(MediaWriter):
    """Samples num_tokens tokens after `prompt` from the LanguageModel task at `temperature`
    (0: most likely token) after every `every_n_epochs` validation epochs and after testing,
    with the data module's encode/decode. Each sample is appended to samples.txt under a line
    "--- <stage>, epoch <epoch>, step <step>, temperature <temperature>", and the W&B table
    "samples" gets one row per sample (stage, epoch, step, prompt, temperature, text); the test
    sample is also printed."""

    def __init__(
        self,
        prompt: str = "\n",
        num_tokens: int = 200,
        temperature: float = 0.8,
        seed: int = 0,
        every_n_epochs: int = 1,
    ) -> None:
        super().__init__()
        if not prompt:
            raise ValueError("prompt must not be empty: sampling starts from its last token")
        self.prompt, self.num_tokens, self.temperature = prompt, num_tokens, temperature
        self.seed, self.every_n_epochs = seed, every_n_epochs
        self.rows: list[list] = []
        self.last_text: str | None = None

    def sample(self, trainer: L.Trainer, pl_module: L.LightningModule) -> str:
        """The prompt followed by the sampled text."""
        datamodule = trainer.datamodule
        encode = _require(datamodule, "encode", "TextSampler", "the data module")
        decode = _require(datamodule, "decode", "TextSampler", "the data module")
        generate = _require(pl_module, "generate", "TextSampler", "the task")
        generator = torch.Generator().manual_seed(self.seed)
        ids = generate(encode(self.prompt), self.num_tokens, self.temperature, generator)
        return self.prompt + decode(ids)

    def _record(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if not trainer.is_global_zero:
            return
        self.last_text = self.sample(trainer, pl_module)
        row = [stage, trainer.current_epoch, trainer.global_step, self.prompt, self.temperature]
        self.rows.append([*row, self.last_text])
        with self.run_file(trainer, "samples.txt").open("a") as file:
            epoch, step = trainer.current_epoch, trainer.global_step
            file.write(f"--- {stage}, epoch {epoch}, step {step}, temperature {self.temperature}\n")
            file.write(f"{self.last_text}\n")
        columns = ["stage", "epoch", "step", "prompt", "temperature", "text"]
        _log_to_wandb(trainer, {"samples": wandb.Table(columns=columns, data=self.rows)})

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking and (trainer.current_epoch + 1) % self.every_n_epochs == 0:
            self._record(trainer, pl_module, "val")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._record(trainer, pl_module, "test")
        if self.last_text is not None:
            print(f"Sample (temperature {self.temperature}):\n{self.last_text}\n", flush=True)


class ConfusionMatrixLogger(MediaWriter):
    """After testing, writes the SequenceClassifier's test confusion matrix to
    test_confusion_matrix.csv (rows: true class, columns: predicted) and to W&B as the chart
    "test/confusion_matrix", with the data module's class names when it has `classes`."""

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        confusion = _require(pl_module, "test_confusion", "ConfusionMatrixLogger", "the task")
        if not trainer.is_global_zero:
            return
        num_classes = confusion.size(0)
        names = list(getattr(trainer.datamodule, "classes", range(num_classes)))
        names = [str(name) for name in names]
        path = self.run_file(trainer, "test_confusion_matrix.csv")
        with path.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["true \\ predicted", *names])
            for name, row in zip(names, confusion.tolist(), strict=True):
                writer.writerow([name, *row])
        log.info("Test confusion matrix: %s", path)
        # W&B's chart takes (true, predicted) pairs: one per test sample, rebuilt from counts.
        counts = confusion.flatten()
        cells = torch.repeat_interleave(torch.arange(counts.numel()), counts)
        chart = wandb.plot.confusion_matrix(
            y_true=(cells // num_classes).tolist(),
            preds=(cells % num_classes).tolist(),
            class_names=names,
        )
        _log_to_wandb(trainer, {"test/confusion_matrix": chart})


class ForecastPlotter(MediaWriter):
    """After testing, plots the Forecaster's first test window for the last output column: its
    lookback, the truth and the forecast, in the data's units when the data module has
    inverse_transform. Saved as forecast.png and logged to W&B as the image "test/forecast"."""

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        example = _require(pl_module, "test_example", "ForecastPlotter", "the task")
        if not trainer.is_global_zero:
            return
        datamodule = trainer.datamodule
        x, y, y_hat = example["x"], example["y"], example["y_hat"]
        inputs = list(getattr(datamodule, "input_columns", []))
        outputs = list(getattr(datamodule, "output_columns", []))
        # The lookback of the output columns, when the inputs hold them (features S, M, MS).
        history = None
        if outputs and all(name in inputs for name in outputs):
            history = x[:, [inputs.index(name) for name in outputs]]
        inverse = getattr(datamodule, "inverse_transform", None)
        if inverse is not None:
            y, y_hat = inverse(y), inverse(y_hat)
            history = inverse(history) if history is not None else None
        name = outputs[-1] if outputs else f"output {y.size(-1) - 1}"
        figure = Figure(figsize=(9, 3.5), layout="constrained")
        axes = figure.subplots()
        if history is not None:
            axes.plot(range(-len(history), 0), history[:, -1], color="0.5", label="lookback")
        axes.plot(range(len(y)), y[:, -1], color="C0", label="truth")
        axes.plot(range(len(y_hat)), y_hat[:, -1], color="C1", label="forecast")
        axes.axvline(0, color="0.8", linewidth=1)
        units = "original units" if inverse is not None else "standardised"
        axes.set(xlabel="time step", ylabel=f"{name} ({units})", title="First test window")
        axes.legend()
        path = self.run_file(trainer, "forecast.png")
        figure.savefig(path, dpi=100)
        log.info("Forecast plot: %s", path)
        _log_to_wandb(trainer, {"test/forecast": wandb.Image(str(path))})
