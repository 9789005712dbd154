"""Running the synthetic business: :func:`generate` and :func:`estimate_customers`.

:func:`generate` checks its arguments, makes the blocks of customers in order (in this
thread or on a small thread pool, :func:`blocks`), collects them into write batches of
``chunk_customers`` and hands them to a :class:`Writer` thread that appends Parquet row
groups or CSV lines to ``.<table>.<fmt>.part`` files, renamed into place only when all
went well. A progress bar on stderr counts customers. Then the spend table and
``ground_truth.json`` are written.
"""

from __future__ import annotations

import json
import math
import os
import queue
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from negah.errors import InputError
from negah.synth import params as P
from negah.synth.encode import HIGH_CARDINALITY, schema
from negah.synth.simulate import Context
from negah.synth.tables import block, spend_table
from negah.synth.truth import ground_truth


class Writer:
    """Writes chunks of tables on a background thread (Arrow encodes without the GIL)."""

    def __init__(self, out: Path, fmt: str, names: list[str]):
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        self.parts: dict[str, Path] = {}
        self.final: dict[str, Path] = {}
        self.writers: dict[str, Any] = {}
        self.files: list[Any] = []
        for name in names:
            final = out / f"{name}.{fmt}"
            part = out / f".{name}.{fmt}.part"
            self.final[name], self.parts[name] = final, part
            if fmt == "parquet":
                sch = schema(name)
                # ids that are (nearly) unique: no dictionary, no min/max statistics (both cost
                # time, gain nothing). customer_id keeps both, as pyarrow's, Spark's and
                # DuckDB's writers do by default: the files are written customer after
                # customer, so its row-group ranges let readers cut the work by customer
                # (Store.customer_chunks), and a customer's lines repeat its id. Numbers and
                # dates get dictionaries too (the writers' default; they fall back to plain
                # pages when a dictionary grows too large).
                low = [f.name for f in sch if f.name not in HIGH_CARDINALITY or f.name == "customer_id"]
                dict_cols = low
                self.writers[name] = pq.ParquetWriter(
                    part, sch, compression="zstd", use_dictionary=dict_cols, write_statistics=low
                )
            else:
                # a plain header line (Arrow would quote the names); values never need quoting
                f = open(part, "wb")
                f.write((",".join(schema(name).names) + "\n").encode())
                self.files.append(f)
                self.writers[name] = pcsv.CSVWriter(
                    f, schema(name), write_options=pcsv.WriteOptions(include_header=False, quoting_style="none")
                )
        self.q: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="negah-synth-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.q.get()
            if item is None:
                return
            if self.error is not None:
                continue
            try:
                for name, tables in item.items():
                    import pyarrow as pa

                    t = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
                    if t.num_rows:
                        self.writers[name].write_table(t)
            except BaseException as e:  # pragma: no cover - disk full etc.
                self.error = e

    def put(self, item: dict[str, list]) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(item)

    def close(self, ok: bool) -> None:
        self.q.put(None)
        self.thread.join()
        for w in self.writers.values():
            w.close()
        for f in self.files:
            f.close()
        if ok and self.error is None:
            for name in self.parts:
                os.replace(self.parts[name], self.final[name])
        else:
            for p in self.parts.values():
                p.unlink(missing_ok=True)
        if self.error is not None:
            raise self.error


def parse_date(value: date | str | None, default: date, what: str) -> date:
    if value is None:
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"synth {what}: {value!r} is not a date (expected YYYY-MM-DD)") from None


def estimate_customers(
    orders: int, *, seed: int = 0, start: date | str | None = None, end: date | str | None = None
) -> int:
    """Customers needed for about ``orders`` order rows on this window (from a pilot block)."""
    if orders < 1:
        raise InputError(f"synth orders: {orders} must be at least 1")
    s = parse_date(start, P.DEFAULT_START, "start")
    e = parse_date(end, P.DEFAULT_END, "end")
    ctx = Context(seed, s, e, True, 4000)
    tables, _ = block(ctx, 0, 4000)
    ratio = max(tables["orders"].num_rows / 4000.0, 0.01)
    return max(1, int(math.ceil(orders / ratio)))


def generate(
    out_dir: str | Path,
    customers: int | None = 10_000,
    seed: int = 0,
    fmt: str = "parquet",
    start: date | str | None = None,
    end: date | str | None = None,
    spike: bool = True,
    progress: bool = True,
    *,
    orders: int | None = None,
    block_size: int = P.BLOCK_SIZE,
    chunk_customers: int = P.DEFAULT_CHUNK,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write a synthetic business with known ground truth to ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write ``<table>.<fmt>``, ``truth_customers.<fmt>`` and
        ``ground_truth.json`` into (created if absent; files of the same names are
        replaced).
    customers
        Number of customers (about :data:`~negah.synth.params.LINES_PER_CUSTOMER` order rows each on the
        default two-year window). Ignored when ``orders`` is given.
    seed
        Random seed; the same arguments give byte-identical files.
    fmt
        ``parquet`` (default) or ``csv``.
    start, end
        First and last day of the data (inclusive; ISO dates); default 2023-01-01 to
        2024-12-31.
    spike
        Plant one complaint spike (reason x product x month); ``False`` plants none.
    progress
        Show a progress bar on stderr.
    orders
        Ask for about this many order rows instead: the customer count is estimated
        from a pilot block.
    block_size
        Customers per random-number block (changing it changes the data).
    chunk_customers
        Customers per write batch (memory bound; never changes the data).
    workers
        Threads that generate blocks in parallel (default: up to 2, one per CPU, when
        there are at least 3 blocks); never changes the data.

    Returns
    -------
    dict with ``paths`` (table -> path, plus ``ground_truth`` and ``truth_customers``),
    ``rows`` (table -> rows written), ``customers``, ``seconds`` and ``truth`` (the
    content of ``ground_truth.json``).
    """
    fmt = str(fmt).lower()
    if fmt not in ("parquet", "csv"):
        raise InputError(f"synth format: {fmt!r} is not supported (expected parquet or csv)")
    s = parse_date(start, P.DEFAULT_START, "start")
    e = parse_date(end, P.DEFAULT_END, "end")
    if e < s:
        raise InputError(f"synth end: {e.isoformat()} is before start {s.isoformat()}")
    if orders is not None:
        customers = estimate_customers(orders, seed=seed, start=s, end=e)
    if customers is None or int(customers) < 1:
        raise InputError(f"synth customers: {customers!r} must be a positive integer")
    customers = int(customers)
    if customers >= 10**9:
        raise InputError(f"synth customers: {customers} is too many (at most 999,999,999)")
    if block_size < 1 or chunk_customers < 1:
        raise InputError(f"synth block_size/chunk_customers must be positive (got {block_size}, {chunk_customers})")

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    other = "csv" if fmt == "parquet" else "parquet"
    clash = [f"{t}.{other}" for t in P.TABLE_NAMES + ("truth_customers",) if (out / f"{t}.{other}").exists()]
    if clash:
        raise InputError(
            f"synth {out}: already holds {', '.join(clash)}; a folder must hold one file per "
            f"table, so write {fmt} into another folder or remove those files"
        )

    t_start = time.perf_counter()
    ctx = Context(seed, s, e, spike, block_size)
    names = list(P.TABLE_NAMES[:-1]) + ["truth_customers"]  # spend is written at the end
    writer = Writer(out, fmt, names + ["spend"])
    rows = {t: 0 for t in P.TABLE_NAMES + ("truth_customers",)}
    acq = np.zeros(len(ctx.months) * len(P.CHANNELS), dtype=np.int64)
    agg: dict[str, Any] = {}
    n_blocks = (customers + block_size - 1) // block_size
    bar = None
    ok = False
    try:
        if progress:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            bar = Progress(
                TextColumn("synth"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("customers"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            bar.start()
            task = bar.add_task("synth", total=customers)
        pending: dict[str, list] = {nm: [] for nm in names}
        in_chunk = 0
        sizes = [min(block_size, customers - b * block_size) for b in range(n_blocks)]
        for b, (tables, st) in enumerate(blocks(ctx, sizes, workers)):
            nb = sizes[b]
            for nm in names:
                pending[nm].append(tables[nm])
                rows[nm] += tables[nm].num_rows
            acq += st.pop("acq")
            for key, v in st.items():
                agg[key] = agg.get(key, 0) + v
            in_chunk += nb
            if in_chunk >= chunk_customers or b == n_blocks - 1:
                writer.put(pending)
                pending = {nm: [] for nm in names}
                in_chunk = 0
            if bar is not None:
                bar.advance(task, nb)

        # spend: acquisitions per paid channel and month at the true CAC, with noise
        spend, samt = spend_table(ctx, acq)
        rows["spend"] = spend.num_rows
        writer.put({"spend": [spend]})
        ok = True
    finally:
        if bar is not None:
            bar.stop()
        writer.close(ok)

    truth = ground_truth(
        ctx, customers, fmt, rows, agg, acq.reshape(len(ctx.months), len(P.CHANNELS)), spend_cents=samt
    )
    gt_path = out / "ground_truth.json"
    gt_path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths = {t: str(writer.final[t]) for t in P.TABLE_NAMES}
    paths["truth_customers"] = str(writer.final["truth_customers"])
    paths["ground_truth"] = str(gt_path)
    return {
        "paths": paths,
        "rows": rows,
        "customers": customers,
        "seconds": time.perf_counter() - t_start,
        "truth": truth,
    }


def blocks(ctx: Context, sizes: list[int], workers: int | None):
    """Yield :func:`~negah.synth.tables.block` results in block order, made in this thread or by a pool of threads.

    NumPy's random fills and array loops and Arrow's kernels release the GIL, so two
    threads overlap well on two cores. At most ``workers + 1`` blocks are in flight, so
    memory stays bounded when writing is slower than generating.
    """
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if len(sizes) >= 3 else 1
    if workers <= 1 or len(sizes) < 2:
        for b, nb in enumerate(sizes):
            yield block(ctx, b, nb)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="negah-synth") as pool:
        inflight: deque = deque()
        nxt = 0
        try:
            while nxt < len(sizes) or inflight:
                while nxt < len(sizes) and len(inflight) < workers + 1:
                    inflight.append(pool.submit(block, ctx, nxt, sizes[nxt]))
                    nxt += 1
                yield inflight.popleft().result()
        finally:
            for f in inflight:
                f.cancel()
