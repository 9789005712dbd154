"""Background jobs: long work (model fits, survey e-mails) out of the request.

``POST /api/models/run`` and ``POST /api/surveys/{id}/send`` answer ``202`` at once with a
job id; the work runs in a background thread of the worker that took the request, one
job at a time per worker, and ``GET /api/jobs/{id}`` shows its state from any worker:

* ``status``: ``queued`` → ``running`` → ``done`` | ``failed`` (``failed`` with
  ``error.message``; a job of a worker that stopped or died says so);
* ``progress``: the last progress line; ``result``: what the work returned;
* per-item results (one line per e-mail recipient: sent or failed, and why) are appended
  to ``<id>.items.jsonl`` as they happen (``GET /api/jobs/{id}/items``), so nothing is
  lost when a job fails half-way.

Jobs are JSON files in the service's folder beside the store (``<store>.negah/jobs/``),
written atomically: every worker reads them and they outlive a restart.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import queue
import re
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("negah.api")

JOB_ID = re.compile(r"^j[0-9a-f]{12}$")
KEEP = 500  # job files kept (oldest removed first)
#: this process's token: a restarted worker may get the same pid (PID 1 in a container)
PROCESS = secrets.token_hex(8)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None).isoformat(timespec="seconds")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


class Job:
    """What the work function gets: progress reports and per-item results."""

    def __init__(self, jobs: "Jobs", job_id: str):
        self.jobs = jobs
        self.job_id = job_id
        self._last = 0.0

    def progress(self, message: str, force: bool = False) -> None:
        """Record the latest progress line (written at most twice a second)."""
        now = time.monotonic()
        if force or now - self._last >= 0.5:
            self._last = now
            self.jobs._update(self.job_id, progress=str(message)[:500])

    def item(self, row: dict[str, Any]) -> None:
        """Append one per-item result (JSON line) to the job's items file."""
        line = json.dumps(row, ensure_ascii=False, default=str) + "\n"
        fd = os.open(self.jobs.items_path(self.job_id), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    @property
    def stopping(self) -> bool:
        return self.jobs._stopping.is_set()


class Jobs:
    """The job folder and this worker's job thread."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._mine: set[str] = set()

    # -- files ----------------------------------------------------------------------------
    def path(self, job_id: str) -> Path:
        if not JOB_ID.match(job_id):
            raise ValueError(f"job id {job_id!r}")
        return self.root / f"{job_id}.json"

    def items_path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.items.jsonl"

    def _write(self, job: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        p = self.path(job["job_id"])
        tmp = p.with_name(f".{p.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(job, ensure_ascii=False, default=str), encoding="utf-8")
        tmp.chmod(0o600)  # like the items file: results may name recipients
        os.replace(tmp, p)

    def _read(self, job_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.path(job_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _update(self, job_id: str, **changes: Any) -> dict[str, Any] | None:
        with self._lock:
            job = self._read(job_id)
            if job is None:
                return None
            job.update(changes)
            self._write(job)
            return job

    # -- API --------------------------------------------------------------------------------
    def submit(self, kind: str, params: dict[str, Any], actor: str, work: Callable[[Job], dict[str, Any]]) -> dict:
        """Queue ``work(job)`` (its return value becomes the job's ``result``); the job."""
        job = {
            "job_id": "j" + secrets.token_hex(6),
            "kind": kind,
            "params": params,
            "status": "queued",
            "actor": actor,
            "created_at": _now(),
            "started_at": None,
            "finished_at": None,
            "progress": None,
            "result": None,
            "error": None,
            "pid": os.getpid(),
            "process": PROCESS,
        }
        with self._lock:
            self._write(job)
            self._mine.add(job["job_id"])
        self._queue.put((job["job_id"], work))
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="negah-jobs", daemon=True)
            self._thread.start()
        self._prune()
        return job

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The job (``failed`` when the worker running it is gone), or None."""
        if not JOB_ID.match(job_id):
            return None
        job = self._read(job_id)
        if job is None:
            return None
        if (
            job["status"] in ("queued", "running")
            and job.get("process") != PROCESS
            and (job.get("pid") == os.getpid() or not _alive(job["pid"]))
        ):  # an earlier process of this pid, or gone
            job = (
                self._update(
                    job_id,
                    status="failed",
                    finished_at=_now(),
                    error={"message": "interrupted: the service worker running this job stopped; run it again"},
                )
                or job
            )
        job["items"] = self.count_items(job_id)
        return job

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` jobs, newest first."""
        try:
            files = sorted(self.root.glob("j*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        except OSError:
            return []
        out = []
        for p in files:
            if len(out) >= limit:
                break
            job = self.get(p.stem)
            if job is not None:
                out.append(job)
        out.sort(key=lambda j: (j["created_at"], j["job_id"]), reverse=True)
        return out

    def count_items(self, job_id: str) -> int:
        try:
            with open(self.items_path(job_id), "rb") as f:
                return sum(1 for _ in f)
        except OSError:
            return 0

    def items(self, job_id: str, *, status: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
        """Per-item results, in the order they happened (``status`` filters)."""
        out: list[dict] = []
        seen = 0
        try:
            with open(self.items_path(job_id), encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    if status is not None and row.get("status") != status:
                        continue
                    if seen >= offset:
                        out.append(row)
                        if len(out) >= limit:
                            break
                    seen += 1
        except OSError:
            pass
        return out

    def stop(self) -> None:
        """At shutdown: no new job starts; this worker's queued and running jobs are marked
        interrupted (a running one that still finishes in the next seconds says so)."""
        self._stopping.set()
        self._queue.put(None)
        for job_id in list(self._mine):
            job = self._read(job_id)
            if job is not None and job["status"] in ("queued", "running"):
                self._update(
                    job_id,
                    status="failed",
                    finished_at=_now(),
                    error={"message": "interrupted: the service stopped; run it again"},
                )

    # -- the thread ---------------------------------------------------------------------------
    def _run(self) -> None:
        from negah.errors import NegahError

        while True:
            got = self._queue.get()
            if got is None or self._stopping.is_set():
                return
            job_id, work = got
            self._update(job_id, status="running", started_at=_now())
            t0 = time.perf_counter()
            try:
                result = work(Job(self, job_id))
            except NegahError as e:
                self._update(
                    job_id,
                    status="failed",
                    finished_at=_now(),
                    seconds=round(time.perf_counter() - t0, 3),
                    error={"message": str(e), "type": type(e).__name__},
                )
            except Exception as e:  # noqa: BLE001 - recorded on the job, logged with the traceback
                log.exception("job %s failed", job_id)
                self._update(
                    job_id,
                    status="failed",
                    finished_at=_now(),
                    seconds=round(time.perf_counter() - t0, 3),
                    error={"message": f"internal error: {type(e).__name__}: {e}", "type": type(e).__name__},
                )
            else:
                self._update(
                    job_id, status="done", finished_at=_now(), seconds=round(time.perf_counter() - t0, 3), result=result
                )
            finally:
                self._mine.discard(job_id)

    def _prune(self) -> None:
        try:
            files = sorted(self.root.glob("j*.json"), key=lambda p: p.stat().st_mtime)
        except OSError:
            return
        for p in files[:-KEEP] if len(files) > KEEP else []:
            for q in (p, self.items_path(p.stem)):
                try:
                    q.unlink()
                except OSError:
                    pass
