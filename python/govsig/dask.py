"""The archive job on a Dask cluster: the same report lines, verified by many machines.

::

    import govsig.dask
    ddf = govsig.dask.verify_paths(paths, policy)          # lazy dask DataFrame
    summary = govsig.dask.verify_archive(root, policy, client=client, report="out.parquet")

Install with ``pip install 'govsig[dask]'``. Why it is built the way it is:

- Paths travel, not bytes: a task carries a list of paths and the worker reads the files from
  storage every worker mounts. Shipping bytes would send the archive through the scheduler's
  and the client's network links, which is the first thing to saturate.
- One :class:`~govsig.Verifier` per worker process, kept across partitions (a cache keyed by
  the job's policy and fetcher): its parsed certificates, validated chains and fetched
  revocation evidence serve every later partition instead of being rebuilt for each.
- govsig's threads inside a worker are capped so they do not fight Dask's: the job's
  ``threads_per_worker``, else ``GOVSIG_THREADS`` in the worker's environment, else the
  worker's own thread count (``nthreads``). Never one per core per process, which with
  several worker processes on a machine would oversubscribe it.
- One validation time for the whole job, fixed on the client when the policy has none: a
  partition verified (or re-run after a worker was lost) an hour later judges at the same
  instant as the first.
- A report line is made by the archive job's own code (:class:`govsig.archive.ArchiveJob`,
  :class:`govsig.archive.report.LineMaker`), so it is the line ``govsig verify-archive``
  writes for the same entry; the columns are those of its Parquet report.
- Tasks are ordinary Dask tasks (named ``govsig-verify``): Dask's progress bar and dashboard
  show them, and a partition lost with its worker is run again by Dask, so every document has
  exactly one line.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import os
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Optional, Union

from govsig._policy import Policy
from govsig._verifier import Verifier
from govsig._threads import check_threads
from govsig.archive.job import ArchiveJob, JobSummary
from govsig.archive.report import arrow_schema, job_context
from govsig.archive.walk import Entry, walk

__all__ = ["verify_paths", "verify_archive", "worker_state", "report_meta"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

# Verifiers a worker process keeps, by job key. More than one job may share a cluster; a few
# are kept so that alternating jobs do not rebuild each other's, not one per job ever run.
_KEEP = 4


def _dask() -> tuple[Any, Any]:
    try:
        dd = importlib.import_module("dask.dataframe")
        pd = importlib.import_module("pandas")
    except ImportError as e:
        raise ImportError(f"govsig.dask needs dask[dataframe], which is not installed ({e}); "
                          "install it with: pip install 'govsig[dask]'") from e
    return dd, pd


@dataclass(frozen=True)
class _Job:
    """What every partition task carries: pickled into the graph once per task (a policy and
    a fetcher configuration, a few kilobytes), never the documents."""

    policy: Policy
    fetcher: Any
    threads: Optional[int]
    context: dict[str, Any]
    max_size: Optional[int]
    follow_symlinks: bool
    key: str


# -- on the worker --------------------------------------------------------------------------

_lock = threading.Lock()
_verifiers: "OrderedDict[str, Verifier]" = OrderedDict()
_state: dict[str, Any] = {"threads": None, "partitions": 0, "entries": 0, "verifiers_built": 0}


def _verifier(job: _Job) -> Verifier:
    """This process's Verifier for the job (built on the first partition, then reused)."""
    with _lock:
        v = _verifiers.get(job.key)
        if v is None:
            v = _verifiers[job.key] = Verifier(job.policy, job.fetcher)
            _state["verifiers_built"] += 1
            while len(_verifiers) > _KEEP:
                _verifiers.popitem(last=False)
        else:
            _verifiers.move_to_end(job.key)
        return v


def _worker_nthreads() -> Optional[int]:
    try:
        distributed = importlib.import_module("distributed")
        worker = distributed.get_worker()
    except (ImportError, ValueError):
        return None
    state = getattr(worker, "state", None)
    n = getattr(state, "nthreads", None) or getattr(worker, "nthreads", None)
    return int(n) if n else None


def _threads(job: _Job) -> int:
    """govsig's threads in this worker process: the job's ``threads_per_worker``, else
    ``GOVSIG_THREADS``, else the Dask worker's thread count; 1 outside a Dask worker (the
    local threaded scheduler already runs one task per core)."""
    if job.threads is not None:
        return job.threads
    env = os.environ.get("GOVSIG_THREADS", "").strip()
    if env:
        try:
            n = int(env)
            check_threads(n)
        except ValueError:
            raise ValueError(f"GOVSIG_THREADS={env!r} in this worker's environment is not a whole number from 1 "
                             "to govsig.MAX_THREADS; fix it or pass threads_per_worker=") from None
        return n
    return _worker_nthreads() or 1


class _EntriesJob(ArchiveJob):
    """The archive job over a partition's entries instead of a walk: its pipeline as it is
    (the next chunk read and hashed while this one is verified, lines made while the next is
    verified), so a worker overlaps its I/O as ``govsig verify-archive`` does."""

    def __init__(self, entries: list[Entry], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries = entries

    def _chunks(self, stop: threading.Event) -> Iterator[list[Any]]:
        for start in range(0, len(self.entries), self.chunk_size):
            group = list(enumerate(self.entries[start:start + self.chunk_size], start))
            yield self._prepare(group, None, stop)


# Documents per chunk of a partition's pipeline: small enough that reading the next one
# overlaps most of the partition, large enough to keep govsig's threads busy.
_CHUNK = 256


def _partition(entries: list[Entry], job: _Job) -> Any:
    """The report rows of one partition, as a pandas DataFrame with the report's Arrow types."""
    _, pd = _dask()
    pa = importlib.import_module("pyarrow")
    verifier = _verifier(job)
    threads = _threads(job)
    texts: list[str] = []
    _EntriesJob(entries, verifier, [], context=job.context, follow_symlinks=job.follow_symlinks,
                max_size=job.max_size, workers=threads, chunk_size=_CHUNK, sink=texts.append).run()
    with _lock:
        _state["threads"] = threads
        _state["partitions"] += 1
        _state["entries"] += len(texts)
    if not texts:
        return report_meta()
    # The lines parsed by Arrow's JSON reader straight into the report's schema (json.loads
    # then Table.from_pylist cost a fifth of a partition's time).
    schema = arrow_schema()
    paj = importlib.import_module("pyarrow.json")
    table = paj.read_json(pa.py_buffer("\n".join(texts).encode("utf-8")),
                          read_options=paj.ReadOptions(block_size=1 << 26),
                          parse_options=paj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"))
    return table.select(schema.names).to_pandas(types_mapper=pd.ArrowDtype)


def worker_state() -> dict[str, Any]:
    """What govsig did in this process: the threads it verified with last (``threads``), the
    partitions and entries it verified, the Verifiers it built and holds. Ask every worker
    with ``client.run(govsig.dask.worker_state)``."""
    with _lock:
        return dict(_state, verifiers_held=len(_verifiers), pid=os.getpid())


# -- on the client --------------------------------------------------------------------------


def report_meta() -> Any:
    """An empty pandas DataFrame with the report's columns and types (the DataFrame's meta)."""
    _, pd = _dask()
    return arrow_schema().empty_table().to_pandas(types_mapper=pd.ArrowDtype)


def _iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _job(policy: Policy, fetcher: Any, threads: Optional[int], max_size: Optional[int],
         follow_symlinks: bool) -> _Job:
    if not isinstance(policy, Policy):
        raise TypeError(f"policy must be a govsig.Policy, got {type(policy).__name__}")
    check_threads(threads)
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1):
        raise ValueError(f"max_size must be a positive int or None, not {max_size!r}")
    asked = None if policy.at is None else _iso(policy.at)
    at = policy.at
    if at is None:
        at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        policy = policy.replace(at=at)
    try:
        blob = pickle.dumps((policy, fetcher), protocol=5)
    except Exception as e:
        raise TypeError(f"the policy and fetcher travel to the workers and must pickle: {e}") from e
    context = job_context(policy, at=asked, validated_at=_iso(at), fetch=fetcher is not None,
                          max_size=max_size, follow_symlinks=follow_symlinks)
    return _Job(policy, fetcher, threads, context, max_size, bool(follow_symlinks), hashlib.sha256(blob).hexdigest())


def _check_workers(client: Any) -> None:
    """A worker without govsig, or with another version, would fail every task or give other
    verdicts: refuse before the job starts, naming the workers."""
    from govsig import __version__

    def version() -> str:
        import govsig

        return govsig.__version__

    try:
        found = client.run(version)
    except ImportError as e:
        raise RuntimeError(f"a Dask worker cannot import govsig ({e}); install govsig {__version__} "
                           "on every worker") from e
    other = {w: v for w, v in found.items() if v != __version__}
    if other:
        raise RuntimeError(f"Dask workers run another govsig than this client ({__version__}): {other}")


def _partitions(entries: list[Entry], size: int) -> list[list[Entry]]:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"partition_size must be a positive int, not {size!r}")
    return [entries[i:i + size] for i in range(0, len(entries), size)]


def _frame(parts: list[list[Entry]], job: _Job) -> Any:
    dd, _ = _dask()
    if not parts:
        return dd.from_pandas(report_meta(), npartitions=1)
    return dd.from_map(_partition, parts, args=[job], meta=report_meta(), label="govsig-verify",
                       enforce_metadata=False)


def verify_paths(paths: Iterable[PathLike], policy: Policy, *, client: Any = None, partition_size: int = 2000,
                 fetcher: Any = None, threads_per_worker: Optional[int] = None,
                 max_size: Optional[int] = None) -> Any:
    """A lazy dask DataFrame of the report lines of ``paths``, one row per path in the order
    given, with the columns (and Arrow types) of ``govsig verify-archive --parquet``.

    Nothing runs until ``.compute()``, ``.to_parquet(...)`` or ``.persist()`` on the cluster.
    Paths are made absolute here and must name the same files on every worker (shared
    storage). ``X.p7s`` with ``X`` beside it is a detached signature, ``*.pdf`` a signed PDF,
    anything else an attached signature, as in the archive job.

    - ``partition_size``: documents per task; see the README ("Running on a cluster").
    - ``fetcher``: an :class:`~govsig.HttpFetcher` (its configuration travels; give it a
      ``cache_dir`` on shared storage so a CRL is fetched once for the cluster).
    - ``threads_per_worker``: govsig's threads per worker process; default ``GOVSIG_THREADS``
      on the worker, else the worker's ``nthreads``.
    - ``client``: when given, the workers are checked to run this govsig version first.
    - ``max_size``: a file larger than this many bytes is reported ``file_too_large``.
    """
    job = _job(policy, fetcher, threads_per_worker, max_size, False)
    if client is not None:
        _check_workers(client)
    entries = []
    for p in paths:
        b = os.fsencode(p)
        entries.append(Entry(b if os.path.isabs(b) else os.path.abspath(b)))
    return _frame(_partitions(entries, partition_size), job)


def verify_archive(root: Union[PathLike, Iterable[PathLike]], policy: Policy, *, client: Any = None,
                   report: Optional[Union[str, "os.PathLike[str]"]] = None, partition_size: int = 2000,
                   fetcher: Any = None, threads_per_worker: Optional[int] = None, max_size: Optional[int] = None,
                   follow_symlinks: bool = False, progress: bool = False) -> JobSummary:
    """Verify every signed document under ``root`` (a folder, or several) on the cluster.

    The folder is walked here, on the client, as ``govsig verify-archive`` walks it (entries
    it will not read, such as FIFOs or files of other kinds, still get a line). The lines go to
    ``report``, a Parquet dataset (a folder of ``part.N.parquet`` files, in walk order), when
    given. Returns the job's :class:`~govsig.archive.JobSummary` (counts by code and by
    revocation status). ``progress`` shows Dask's progress bar while it runs.
    """
    roots = [root] if isinstance(root, (str, bytes, os.PathLike)) else list(root)
    job = _job(policy, fetcher, threads_per_worker, max_size, follow_symlinks)
    if client is not None:
        _check_workers(client)
    t0 = time.monotonic()
    walked = list(walk([os.fsencode(os.path.abspath(os.fsencode(r))) for r in roots], follow_symlinks=follow_symlinks))
    ddf = _frame(_partitions(walked, partition_size), job)
    dask = importlib.import_module("dask")
    # The report and the counts in one computation: the partitions they share run once.
    todo: list[Any] = [ddf["code"].value_counts(), ddf["revocation_status"].value_counts()]
    if report is not None:
        todo.append(ddf.to_parquet(os.fspath(report), write_index=False, compute=False))
    by_code, by_rev = _run(dask, client, todo, progress)[:2]
    summary = JobSummary()
    summary.counts = {str(k): int(v) for k, v in by_code.items()}
    summary.revocation = {str(k): int(v) for k, v in by_rev.items()}
    summary.total = summary.this_run = sum(summary.counts.values())
    summary.elapsed = time.monotonic() - t0
    return summary


def _run(dask: Any, client: Any, what: list[Any], progress: bool) -> list[Any]:
    if client is None:
        if progress:
            with importlib.import_module("dask.diagnostics").ProgressBar():
                return list(dask.compute(*what))
        return list(dask.compute(*what))
    futures = client.compute(what)
    if progress:
        importlib.import_module("distributed").progress(futures)
    return list(client.gather(futures))
