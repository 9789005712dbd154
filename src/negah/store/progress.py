"""The import's progress bar (rich, on stderr)."""

from __future__ import annotations


class ImportProgress:
    """A rich progress bar on stderr over the files of one import (no-op when off)."""

    def __init__(self, enabled: bool, total: int):
        self.p = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.p = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.p.start()
            self.task = self.p.add_task("import", total=total * 3)
            self.label = ""

    def start(self, label: str) -> None:
        self.label = label
        if self.p:
            self.p.update(self.task, description=f"reading {label}")
            self.p.advance(self.task)

    def step(self, what: str) -> None:
        if self.p:
            self.p.update(self.task, description=f"{what} {self.label}")
            self.p.advance(self.task)

    def done(self) -> None:
        if self.p:
            self.p.update(self.task, completed=min(self.p.tasks[0].completed + 1, self.p.tasks[0].total))

    def close(self) -> None:
        if self.p:
            self.p.stop()
