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
  revocation evidence serve every later partition instead of being rebuilt for each. The
  job (policy, fetcher configuration) reaches each worker once, by a worker plugin; tasks
  carry its key.
- ``verify_archive`` walks on the workers: the client lists the folders down to
  ``split_depth`` and each of them is a task that walks its own subtree, so the client's
  memory grows with the folders, not the documents.
- A column selection reaches the workers: asking only for verdicts makes no report line.
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
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from govsig._policy import Policy
from govsig._verifier import Verifier
from govsig._threads import check_threads
from govsig._govsig import BatchResult
from govsig.archive.job import ArchiveJob, JobSummary, ReportRow
from govsig.archive.report import SCHEMA, LineMaker, arrow_schema, job_context
from govsig.archive.walk import Entry, Subtree, walk, walk_split, walk_subtree

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
    """What every partition needs besides its documents: the policy and fetcher configuration,
    the thread cap, the report's context. It reaches the workers through a :class:`_JobRef`."""

    policy: Policy
    fetcher: Any
    threads: Optional[int]
    context: dict[str, Any]
    max_size: Optional[int]
    follow_symlinks: bool
    key: str
    # The pickle of the fields above: what travels (once per worker process when a client
    # registered it, see _JobRef), decoded once per process.
    blob: bytes = field(default=b"", repr=False, compare=False)


def _job_blob(job: _Job) -> bytes:
    return pickle.dumps((job.policy, job.fetcher, job.threads, job.context, job.max_size, job.follow_symlinks),
                        protocol=5)


class _JobRef:
    """What a partition task carries instead of the job: its key (a SHA-256 of the job's
    pickle), plus the pickle itself only when no Dask client was there to hand it to the
    workers once (:class:`_JobPlugin`). A worker decodes a job once per process and keeps
    it, so neither the bytes of a large trust store or CRL set, nor their parsing, are paid
    again per task."""

    __slots__ = ("key", "blob")

    def __init__(self, key: str, blob: Optional[bytes]) -> None:
        self.key = key
        self.blob = blob

    def __reduce__(self) -> tuple[Any, tuple[str, Optional[bytes]]]:
        return (_JobRef, (self.key, self.blob))

    def job(self) -> _Job:
        with _lock:
            job = _jobs.get(self.key)
            if job is not None:
                _jobs.move_to_end(self.key)
                return job
            blob = self.blob if self.blob is not None else _blobs.get(self.key)
        if blob is None:
            raise RuntimeError(
                f"govsig job {self.key[:16]} was registered with another Dask cluster than this worker's: "
                "build the DataFrame again with this cluster's client (client=...)")
        if hashlib.sha256(blob).hexdigest() != self.key:
            raise RuntimeError(f"govsig job {self.key[:16]}: its pickle does not match its key")
        policy, fetcher, threads, context, max_size, follow = pickle.loads(blob)
        job = _Job(policy, fetcher, threads, context, max_size, follow, self.key, blob)
        with _lock:
            _state["jobs_decoded"] += 1
            _jobs[self.key] = job
            while len(_jobs) > _KEEP:
                _jobs.popitem(last=False)
        return job


try:  # the plugin base class exists only with distributed installed
    _WorkerPlugin: Any = importlib.import_module("distributed.diagnostics.plugin").WorkerPlugin
except ImportError:  # pragma: no cover - a dask without distributed runs tasks in this process
    _WorkerPlugin = object


class _JobPlugin(_WorkerPlugin):  # type: ignore[misc]
    """Hands a job's pickle to every worker of a cluster once, including workers that join
    later (a Dask worker plugin); tasks then carry only its key."""

    idempotent = True

    def __init__(self, key: str, blob: bytes) -> None:
        self.key = key
        self.blob = blob
        self.name = f"govsig-job-{key[:32]}"

    def setup(self, worker: Any) -> None:
        with _lock:
            _blobs[self.key] = self.blob

    def teardown(self, worker: Any) -> None:
        with _lock:
            _blobs.pop(self.key, None)


# -- on the worker --------------------------------------------------------------------------

_lock = threading.Lock()
_verifiers: "OrderedDict[str, Verifier]" = OrderedDict()
_jobs: "OrderedDict[str, _Job]" = OrderedDict()
_blobs: dict[str, bytes] = {}
_state: dict[str, Any] = {"threads": None, "partitions": 0, "entries": 0, "verifiers_built": 0,
                          "jobs_decoded": 0}


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


class _TableLines(LineMaker):
    """Report lines bound for a partition's Arrow table rather than a text file: without the
    job's context (the same on every row: added once as constant columns, not parsed again
    per row) and without the inert-text pass (it escapes characters for a reader of the text;
    Arrow's JSON parser decodes both spellings to the same value)."""

    def __init__(self, context: dict[str, Any], mode: str) -> None:
        super().__init__(context, mode)
        self._ctx = ""

    def documents(self, batch: BatchResult, paths: list[bytes], sizes: list[int],
                  digests: list[str]) -> list[tuple[str, str, bool, str]]:
        return batch.report_lines(paths, sizes, digests, self._ctx, self.mode)


class _Verdicts(_TableLines):
    """For a partition asked only for verdict columns (code, ok, revocation_status, and the
    job's constants): a CMS document's row without its line, which would be made only to be
    dropped (the line costs twenty times the verdict); the job skips the documents' SHA-256
    too."""

    def documents(self, batch: BatchResult, paths: list[bytes], sizes: list[int],
                  digests: list[str]) -> list[tuple[str, str, bool, str]]:
        mode = self.mode
        return [("", r.code, r.ok, r.revocation_summary(mode)) for r in (batch[i] for i in range(len(batch)))]


# Documents per chunk of a partition's pipeline: small enough that reading the next one
# overlaps most of the partition, large enough to keep govsig's threads busy.
_CHUNK = 256

# Columns the same on every row of a job (its context and the schema name), and columns read
# from a row's (code, ok, revocation_status) without parsing its line.
_CONSTANT = ("schema", "validated_at", "policy", "govsig_version")
_FROM_ROW = {"code": 2, "ok": 3, "revocation_status": 4}


class _Part:
    """A partition's documents as its task carries them. The paths of plain documents travel
    NUL-joined in one bytes object (a path cannot hold NUL): one object to pickle and hash
    instead of thousands of tuples. Its Dask token is computed once, here: Dask tokenizes a
    graph's arguments every time it rewrites the graph (a column selection, a reduction), and
    hashing 50,000 entries one by one cost the client a second per computation."""

    __slots__ = ("paths", "entries", "token")

    def __init__(self, entries: list[Entry], token: Optional[str] = None) -> None:
        plain = bool(entries) and all(e.code is None and e.size is None and e.reason == "" for e in entries)
        self.paths: Optional[bytes] = b"\0".join(e.path for e in entries) if plain else None
        self.entries: Optional[list[Entry]] = None if plain else entries
        self.token = token if token is not None else hashlib.sha256(
            self.paths if self.paths is not None else pickle.dumps(entries, protocol=5)).hexdigest()

    def __dask_tokenize__(self) -> str:
        return self.token

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_Part._rebuilt, (self.paths, self.entries, self.token))

    @staticmethod
    def _rebuilt(paths: Optional[bytes], entries: Optional[list[Entry]], token: str) -> "_Part":
        part = _Part.__new__(_Part)
        part.paths, part.entries, part.token = paths, entries, token
        return part

    def __len__(self) -> int:
        return len(self.entries) if self.entries is not None else (self.paths or b"").count(b"\0") + 1

    def __iter__(self) -> Iterator[Entry]:
        if self.entries is not None:
            return iter(self.entries)
        return (Entry(p) for p in (self.paths or b"").split(b"\0"))


def _partition(part: Union[_Part, Subtree], ref: Union[_JobRef, _Job], columns: Optional[list[str]] = None) -> Any:
    """The report rows of one partition (a list of entries, or a folder this task walks), as
    a pandas DataFrame with the report's Arrow types: every column, or only ``columns`` (Dask
    pushes a selection such as ``ddf["code"]`` down to here, and then no line is parsed)."""
    _, pd = _dask()
    job = ref.job() if isinstance(ref, _JobRef) else ref
    verifier = _verifier(job)
    threads = _threads(job)
    rows: list[ReportRow] = []
    entries: Iterable[Entry] = (walk_subtree(part, follow_symlinks=job.follow_symlinks)
                                if isinstance(part, Subtree) else part)
    names = arrow_schema().names if columns is None else list(columns)
    verdicts = all(c in _FROM_ROW or c in _CONSTANT for c in names)
    lines = _Verdicts if verdicts else _TableLines
    ArchiveJob(verifier, [], context=job.context, follow_symlinks=job.follow_symlinks, max_size=job.max_size,
               workers=threads, chunk_size=_CHUNK, row_sink=rows.extend,
               line_maker=lines(job.context, verifier.policy.revocation), digests=not verdicts).run(entries)
    with _lock:
        _state["threads"] = threads
        _state["partitions"] += 1
        _state["entries"] += len(rows)
    table = _table(rows, job, names)
    return table.to_pandas(types_mapper=pd.ArrowDtype)


def _table(rows: list[ReportRow], job: _Job, names: list[str]) -> Any:
    pa = importlib.import_module("pyarrow")
    schema = arrow_schema()
    n = len(rows)
    parsed = [c for c in names if c not in _CONSTANT and c not in _FROM_ROW]
    table = None
    if parsed and n:
        # The lines parsed by Arrow's JSON reader straight into the report's types, only the
        # columns asked for (json.loads then Table.from_pylist cost a fifth of a partition).
        paj = importlib.import_module("pyarrow.json")
        want = pa.schema([schema.field(c) for c in parsed])
        table = paj.read_json(pa.py_buffer("\n".join(r[5] for r in rows).encode("utf-8")),
                              read_options=paj.ReadOptions(block_size=1 << 26),
                              parse_options=paj.ParseOptions(explicit_schema=want,
                                                             unexpected_field_behavior="ignore"))
    constant = dict(job.context, schema=SCHEMA)
    zeros = pa.array([0] * n, pa.int32()) if n else None
    arrays = []
    for c in names:
        f = schema.field(c)
        if table is not None and c in parsed:
            arrays.append(table.column(c))
        elif c in _FROM_ROW:
            arrays.append(pa.array([r[_FROM_ROW[c]] for r in rows], f.type))
        elif c in _CONSTANT and n:
            # One value, repeated by index (a struct of lists is not rebuilt per row).
            arrays.append(pa.array([constant[c]], f.type).take(zeros))
        else:
            arrays.append(pa.array([], f.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema([schema.field(c) for c in names]))


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
         follow_symlinks: bool, unique: bool = False) -> _Job:
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
    context = job_context(policy, at=asked, validated_at=_iso(at), fetch=fetcher is not None,
                          max_size=max_size, follow_symlinks=follow_symlinks)
    job = _Job(policy, fetcher, threads, context, max_size, bool(follow_symlinks), "")
    try:
        blob = _job_blob(job)
    except Exception as e:
        raise TypeError(f"the policy and fetcher travel to the workers and must pickle: {e}") from e
    if unique:
        # A key no other job shares, so the job's plugin can be removed when it ends without
        # pulling it from under another DataFrame built from the same policy. (Bytes after
        # a pickle's STOP are ignored by pickle.loads; the key covers them.)
        blob += os.urandom(16)
    return _Job(policy, fetcher, threads, context, max_size, bool(follow_symlinks), hashlib.sha256(blob).hexdigest(),
                blob)


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


def _partitions(entries: list[Entry], size: int) -> list[_Part]:
    _check_partition_size(size)
    return [_Part(entries[i:i + size]) for i in range(0, len(entries), size)]


def _check_partition_size(size: int) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"partition_size must be a positive int, not {size!r}")


def _client(client: Any) -> Any:
    """The client given, else the process's default distributed client, else None."""
    if client is not None:
        return client
    try:
        return importlib.import_module("distributed").default_client()
    except (ImportError, ValueError):
        return None


def _ref(job: _Job, client: Any) -> _JobRef:
    """The job as the tasks carry it. With a client, the job is handed to every worker once
    (a worker plugin, which workers joining later get too) and tasks carry its key alone;
    without one (Dask's local schedulers), the tasks carry the pickle. Either way this process
    keeps it, so a local scheduler finds it too."""
    with _lock:
        _blobs[job.key] = job.blob
    if client is None:
        return _JobRef(job.key, job.blob)
    client.register_plugin(_JobPlugin(job.key, job.blob))
    return _JobRef(job.key, None)


def _frame(parts: list[Any], job: _Job, client: Any, ref: Optional[_JobRef] = None) -> Any:
    dd, _ = _dask()
    if not parts:
        return dd.from_pandas(report_meta(), npartitions=1)
    if ref is None:
        ref = _ref(job, _client(client))
    # Every string column already has an Arrow type: Dask's conversion of object strings to
    # Arrow would be one more task per partition, converting nothing.
    with importlib.import_module("dask").config.set({"dataframe.convert-string": False}):
        return dd.from_map(_partition, parts, args=[ref], meta=report_meta(),
                           label="govsig-verify", enforce_metadata=False)


def verify_paths(paths: Iterable[PathLike], policy: Policy, *, client: Any = None, partition_size: int = 2000,
                 fetcher: Any = None, threads_per_worker: Optional[int] = None,
                 max_size: Optional[int] = None) -> Any:
    """A lazy dask DataFrame of the report lines of ``paths``, one row per path in the order
    given, with the columns (and Arrow types) of ``govsig verify-archive --parquet``.

    Nothing runs until ``.compute()``, ``.to_parquet(...)`` or ``.persist()`` on the cluster.
    Paths are made absolute here and must name the same files on every worker (shared
    storage). ``X.p7s`` with ``X`` beside it is a detached signature, ``*.pdf`` a signed PDF,
    anything else an attached signature, as in the archive job. A selection of columns
    (``ddf["code"]``, ``ddf[["path", "code"]]``) is pushed down to the workers: asking only
    for ``code``, ``ok`` and ``revocation_status`` parses no report line.

    - ``partition_size``: documents per task; see the README ("Running on a cluster").
    - ``fetcher``: an :class:`~govsig.HttpFetcher` (its configuration travels; give it a
      ``cache_dir`` on shared storage so a CRL or OCSP answer is fetched once for the cluster).
    - ``threads_per_worker``: govsig's threads per worker process; default ``GOVSIG_THREADS``
      on the worker, else the worker's ``nthreads``.
    - ``client``: when given, the workers are checked to run this govsig version first. With
      a client (given, or the default one), the policy and fetcher go to each worker once
      (a worker plugin) instead of inside every task; compute the DataFrame on that cluster.
    - ``max_size``: a file larger than this many bytes is reported ``file_too_large``.
    """
    job = _job(policy, fetcher, threads_per_worker, max_size, False)
    if client is not None:
        _check_workers(client)
    entries = []
    for p in paths:
        b = os.fsencode(p)
        entries.append(Entry(b if os.path.isabs(b) else os.path.abspath(b)))
    return _frame(_partitions(entries, partition_size), job, client)


def _walk_parts(roots: list[bytes], follow_symlinks: bool, size: int, depth: Optional[int]) -> list[Any]:
    """Tasks in walk order: a folder ``depth`` levels down is one task that walks it on a
    worker; the entries found above those folders are grouped ``size`` to a task."""
    _check_partition_size(size)
    if depth is None:
        return _partitions(list(walk(roots, follow_symlinks=follow_symlinks)), size)
    parts: list[Any] = []
    run: list[Entry] = []
    for u in walk_split(roots, follow_symlinks=follow_symlinks, depth=depth):
        if isinstance(u, Subtree):
            if run:
                parts.append(_Part(run))
                run = []
            parts.append(u)
        else:
            run.append(u)
            if len(run) >= size:
                parts.append(_Part(run))
                run = []
    if run:
        parts.append(_Part(run))
    return parts


def verify_archive(root: Union[PathLike, Iterable[PathLike]], policy: Policy, *, client: Any = None,
                   report: Optional[Union[str, "os.PathLike[str]"]] = None, partition_size: int = 2000,
                   fetcher: Any = None, threads_per_worker: Optional[int] = None, max_size: Optional[int] = None,
                   follow_symlinks: bool = False, progress: bool = False,
                   split_depth: Optional[int] = 1) -> JobSummary:
    """Verify every signed document under ``root`` (a folder, or several) on the cluster.

    The archive is walked as ``govsig verify-archive`` walks it (entries it will not read,
    such as FIFOs or files of other kinds, still get a line), but not all here: the client
    lists the folders down to ``split_depth`` levels, and each folder found there is one task
    that walks its own subtree on a worker and verifies what it finds. The client's memory
    and the task graph grow with the number of those folders, not of documents. Entries above
    that depth are verified ``partition_size`` to a task; ``split_depth=None`` walks
    everything here and cuts it into tasks of ``partition_size`` documents (for an archive
    whose documents are not spread over folders). Pick the depth whose folders hold from a
    few thousand to a few hundred thousand documents each: a task's rows are held by its
    worker until written.

    The lines go to ``report``, a Parquet dataset (a folder of ``part.NNNNNNNNN.parquet``
    files, whose name order is walk order), when given. Returns the job's :class:`~govsig.archive.JobSummary` (counts by
    code and by revocation status). ``progress`` shows Dask's progress bar while it runs.
    """
    roots = [root] if isinstance(root, (str, bytes, os.PathLike)) else list(root)
    job = _job(policy, fetcher, threads_per_worker, max_size, follow_symlinks, unique=True)
    if client is not None:
        _check_workers(client)
    if split_depth is not None and (isinstance(split_depth, bool) or not isinstance(split_depth, int)
                                    or split_depth < 1):
        raise ValueError(f"split_depth must be a positive int or None, not {split_depth!r}")
    t0 = time.monotonic()
    parts = _walk_parts([os.fsencode(os.path.abspath(os.fsencode(r))) for r in roots], follow_symlinks,
                        partition_size, split_depth)
    ddf = _frame(parts, job, client)
    dask = importlib.import_module("dask")
    # The report and the counts in one computation: the partitions they share run once.
    # split_out=1: a tree reduction of a handful of codes; the default shuffles them, with
    # several tasks per partition, each a scheduler round trip.
    todo: list[Any] = [ddf["code"].value_counts(split_out=1), ddf["revocation_status"].value_counts(split_out=1)]
    if report is not None:
        todo.append(ddf.to_parquet(os.fspath(report), write_index=False, compute=False, name_function=_part_name))
    try:
        by_code, by_rev = _run(dask, client, todo, progress)[:2]
    finally:
        # The job's plugin served this computation only: leave no copy of the policy behind
        # on a long-lived cluster.
        used = _client(client)
        if used is not None:
            try:
                used.unregister_worker_plugin(_JobPlugin(job.key, b"").name)
            except Exception:  # a cluster gone or closing has nothing left to remove
                pass
        with _lock:
            _blobs.pop(job.key, None)
    summary = JobSummary()
    summary.counts = {str(k): int(v) for k, v in by_code.items()}
    summary.revocation = {str(k): int(v) for k, v in by_rev.items()}
    summary.total = summary.this_run = sum(summary.counts.values())
    summary.elapsed = time.monotonic() - t0
    return summary


def _part_name(i: int) -> str:
    # Zero-padded: readers list a dataset's files in name order, which is then walk order.
    return f"part.{i:09d}.parquet"


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
