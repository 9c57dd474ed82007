"""What a training run shows on stderr while it runs.

On a terminal: a tqdm bar (steps, loss, samples/s). Elsewhere (CI, ``nohup``, a log file,
where a bar is one endless line of carriage returns): one line every
:data:`PROGRESS_SECONDS` of training, and a line per evaluation::

    fold 2/5: step 1200/2700 (44%) epoch 9/20 loss 0.4123 1520 samples/s ETA 1m23s
    fold 2/5: step 1350 epoch 10: val_loss 0.39 val_accuracy 0.94

The ``label`` (here ``fold 2/5``) tells the lines of several runs of one command apart.
``--quiet`` turns off the bar and those lines; :meth:`Progress.note` (the resume line,
warnings) prints anyway. Only the main process of a torchrun job prints.

Example:
    >>> progress = Progress(label="fold 2/5")
    >>> progress.start(total=2700, initial=0, epochs=20)  # doctest: +SKIP
    >>> progress.step(1, epoch=0, loss=0.69, samples=32)  # doctest: +SKIP
    >>> progress.close()  # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm

__all__ = ["PROGRESS_SECONDS", "Progress", "duration"]

# Seconds of training between two progress lines when stderr is not a terminal (tests
# lower it).
PROGRESS_SECONDS = 10.0


def duration(seconds: float) -> str:
    """A short human duration: ``45s``, ``3m05s``, ``2h07m``.

    Example:
        >>> duration(185), duration(7620)
        ('3m05s', '2h07m')
    """
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class Progress:
    """The bar or the progress lines of one run; see the module docstring.

    Args:
        label: prefixes every line (and names the bar), e.g. ``"fold 2/5"``; empty: none.
        quiet: no bar, no progress or evaluation lines (``--quiet``).
        main: False in torchrun processes of rank > 0, which print nothing.
    """

    def __init__(self, label: str = "", quiet: bool = False, main: bool = True) -> None:
        self.label = label
        self.main = main
        self.show = main and not quiet
        self.bar: tqdm | None = None
        self.total = self.epochs = 0

    def _prefixed(self, text: str) -> str:
        return f"{self.label}: {text}" if self.label else text

    def _print(self, text: str) -> None:
        if self.bar is not None and not self.bar.disable:
            tqdm.write(text, file=sys.stderr)  # above the bar, which is redrawn below
        else:
            print(text, file=sys.stderr, flush=True)

    @property
    def lines(self) -> bool:
        """Whether progress is shown as lines (stderr is not a terminal)."""
        return self.show and not sys.stderr.isatty()

    def start(self, total: int, initial: int, epochs: int) -> None:
        """Begin at step ``initial`` of ``total`` (``epochs`` passes over the data in all)."""
        self.total, self.epochs = total, epochs
        self.bar = tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True,
                        desc=self.label or None, disable=not self.show or self.lines)  # fmt: skip
        self._t0 = self._last = time.monotonic()
        self._first_step = initial
        self._loss_sum, self._loss_count, self._samples = 0.0, 0, 0

    def step(self, step: int, epoch: int, loss: float, samples: int) -> None:
        """One optimizer step done: ``step`` counts them, ``epoch`` is 0-based, ``loss`` is
        the step's training loss and ``samples`` the examples it saw."""
        if self.bar is not None:
            self.bar.update(1)
        if not self.lines:
            return
        self._loss_sum, self._loss_count = self._loss_sum + loss, self._loss_count + 1
        self._samples += samples
        now = time.monotonic()
        if now - self._last < PROGRESS_SECONDS:
            return
        elapsed = max(now - self._t0, 1e-9)
        steps_per_s = (step - self._first_step) / elapsed
        eta = duration((self.total - step) / steps_per_s) if steps_per_s > 0 else "?"
        self._print(self._prefixed(
            f"step {step}/{self.total} ({100 * step / max(self.total, 1):.0f}%) "
            f"epoch {epoch + 1}/{self.epochs} loss {self._loss_sum / self._loss_count:.4g} "
            f"{self._samples / elapsed:.0f} samples/s ETA {eta}"
        ))  # fmt: skip
        self._last, self._loss_sum, self._loss_count = now, 0.0, 0

    def logged(self, loss: float, samples_per_s: float) -> None:
        """The loss and rate just logged, shown beside the bar."""
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4g}", samples_s=f"{samples_per_s:.0f}")

    def line(self, text: str) -> None:
        """A line that the bar makes redundant (an evaluation): printed when not on a
        terminal and not quiet."""
        if self.lines:
            self._print(self._prefixed(text))

    def note(self, text: str, warning: bool = False) -> None:
        """A line printed even with ``--quiet`` (main process only): what was resumed, or a
        warning (``warning: `` goes first)."""
        if self.main:
            self._print(("warning: " if warning else "") + self._prefixed(text))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
