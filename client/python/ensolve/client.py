"""ensolve.Client: solve ensembles on an ensolved server."""

import os
import sys
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence

import grpc
import numpy as np

from ensolve import _tensor
from ensolve.errors import EnsolveError
from ensolve.jobs import WatchCall
from ensolve.raw_kernel import RawKernel
from ensolve.samplers import Sampler
from ensolve.solution import Chunk, Solution
from ensolve.statistics import Statistics, reductions_message
from ensolve.v1 import solver_pb2 as pb
from ensolve.v1 import solver_pb2_grpc
from ensolve.v1 import tensor_pb2 as tpb

_PRECISIONS = {"float32": pb.PRECISION_FLOAT32, "float64": pb.PRECISION_FLOAT64}
# SolveOptions fields that solve() takes as keyword arguments.
_OPTIONS = ("adaptive", "abstol", "reltol", "dt", "dtmin", "max_steps")


@dataclass
class Model:
    """A model the server has parsed and cached (Client.compile); pass it to solve()."""

    model_id: str
    state_names: List[str]
    state_defaults: List[float]
    param_names: List[str]
    param_defaults: List[float]
    output_names: List[str]
    diagnostics: List[str]


def _precision(precision) -> int:
    name = np.dtype(precision).name if not isinstance(precision, str) else precision
    if name not in _PRECISIONS:
        raise ValueError(f"precision: float32 or float64, got {precision!r}")
    return _PRECISIONS[name]


def _model_source(model) -> str:
    """Model text, or the text of a *.ode file when `model` names one."""
    if isinstance(model, os.PathLike) or (isinstance(model, str) and "\n" not in model
                                          and str(model).endswith(".ode")):
        with open(model, encoding="utf-8") as f:
            return f.read()
    if not isinstance(model, str):
        raise TypeError(f"model: model text, a *.ode path or an ensolve.Model, got {type(model)}")
    return model


class SolveStream:
    """The messages of one Solve call as they arrive: iterate for Chunks (in any
    trajectory order). `accepted` is set once the server admits the job; `summary` when
    the stream ends. Failures raise EnsolveError; cancel() stops the job."""

    def __init__(self, call, accepted: Optional[pb.SolveAccepted] = None):
        self._call = call
        self.accepted: Optional[pb.SolveAccepted] = accepted
        self.summary: Optional[pb.SolveSummary] = None
        # With reductions: the latest ReductionResult (partial ones while batches finish,
        # then the final one).
        self.reduction: Optional[pb.ReductionResult] = None
        self._dtype = None
        if self.accepted is None:  # else a watch resumed past it (Client.watch_stream)
            first = self._next_message()
            if first is None or first.WhichOneof("message") != "accepted":
                raise EnsolveError(grpc.StatusCode.DATA_LOSS, "the stream did not start with "
                                   "SolveAccepted")
            self.accepted = first.accepted
        self._dtype = np.dtype("<f4") if self.accepted.dtype == tpb.DTYPE_FLOAT32 else \
            np.dtype("<f8")

    def _next_message(self):
        try:
            return next(self._call)
        except StopIteration:
            return None
        except grpc.RpcError as e:
            raise EnsolveError.from_rpc(e) from None

    def __iter__(self) -> Iterator[Chunk]:
        return self

    def __next__(self) -> Chunk:
        while True:
            m = self._next_message()
            if m is None:
                if self.summary is None:
                    raise EnsolveError(grpc.StatusCode.DATA_LOSS, "the stream ended without "
                                       "a SolveSummary")
                raise StopIteration
            kind = m.WhichOneof("message")
            if kind == "chunk":
                try:
                    return Chunk.from_proto(m.chunk, _num_save(self.accepted),
                                            len(self.accepted.state_names), self._dtype,
                                            _num_sensitivities(self.accepted))
                except ValueError as e:
                    self.cancel()
                    raise EnsolveError(grpc.StatusCode.DATA_LOSS, str(e)) from None
            if kind == "reduction":
                self.reduction = m.reduction
            if kind == "summary":
                self.summary = m.summary

    def cancel(self) -> None:
        self._call.cancel()

    @property
    def offset(self) -> Optional[int]:
        """For a detached job's watch: the number of the next message (watch_stream's
        from_offset to go on from after a cancel or a lost client)."""
        return getattr(self._call, "offset", None)

    @property
    def trajectories(self) -> int:
        return self.accepted.trajectories


def _num_save(a: pb.SolveAccepted) -> int:
    """Save points per trajectory (servers before save_points always sent save_times)."""
    return a.save_points or len(a.save_times)


def _progress_bar(total: int, progress):
    """A tqdm bar when asked (True), or by default when tqdm is installed and stdout is a
    terminal; None otherwise."""
    if progress is False:
        return None
    if progress is None and not (hasattr(sys.stdout, "isatty") and sys.stdout.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="traj", unit_scale=True, desc="ensolve")


class Client:
    """A connection to ensolved at `target` ("host:port", "dns:///svc.ns:50051", ...),
    made lazily, with round-robin load balancing over the target's addresses. Safe to
    share between threads; use as a context manager or call close(). `token` is sent as
    `authorization: Bearer <token>` on every call (servers run with --tokens_file). With
    `tls_ca` (the CA that signed the server's certificate; `tls=True` alone: the system's
    roots) the channel is TLS; `tls_cert`/`tls_key` add this client's certificate for
    servers that require one (--tls_client_ca)."""

    def __init__(self, target: str, max_receive_message_bytes: int = 64 << 20,
                 max_send_message_bytes: int = 256 << 20, token: Optional[str] = None,
                 tls: bool = False, tls_ca: Optional[str] = None,
                 tls_cert: Optional[str] = None, tls_key: Optional[str] = None):
        self.target = target
        self._metadata = (("authorization", f"Bearer {token}"),) if token else None
        options = [
            ("grpc.max_receive_message_length", max_receive_message_bytes),
            ("grpc.max_send_message_length", max_send_message_bytes),
            ("grpc.lb_policy_name", "round_robin"),
        ]
        if (tls_cert is None) != (tls_key is None):
            raise ValueError("tls_cert and tls_key: give both or neither")
        if tls or tls_ca or tls_cert:
            def read(path):
                if path is None:
                    return None
                with open(path, "rb") as f:
                    return f.read()
            credentials = grpc.ssl_channel_credentials(
                root_certificates=read(tls_ca), private_key=read(tls_key),
                certificate_chain=read(tls_cert))
            self._channel = grpc.secure_channel(target, credentials, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = solver_pb2_grpc.EnsembleSolverStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- unary calls ----------------------------------------------------------------------

    def compile(self, model, timeout: Optional[float] = None) -> Model:
        """Parses and caches a model on the server; its names, defaults and id."""
        source = _model_source(model)
        try:
            r = self._stub.CompileModel(pb.CompileModelRequest(model_source=source),
                                        timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as e:
            raise EnsolveError.from_rpc(e).with_source(source) from None
        return Model(r.model_id, list(r.state_names), list(r.state_defaults),
                     list(r.param_names), list(r.param_defaults), list(r.output_names),
                     list(r.diagnostics))

    def info(self, timeout: Optional[float] = None) -> pb.ServerInfo:
        """The server's version, devices, algorithms and limits (an ensolve.v1.ServerInfo)."""
        try:
            return self._stub.GetServerInfo(pb.GetServerInfoRequest(), timeout=timeout,
                                            metadata=self._metadata)
        except grpc.RpcError as e:
            raise EnsolveError.from_rpc(e) from None

    # -- solving --------------------------------------------------------------------------

    def request(self, model, p=None, u0=None, tspan=None, saveat=None, algorithm="tsit5",
                n: Optional[int] = None, precision="float64", batch_size: int = 0,
                request_id: str = "", outputs: Optional[Sequence[str]] = None,
                return_inputs: Optional[bool] = None,
                sensitivities: Optional[Sequence[str]] = None, reduce=None, hist=None,
                keep_states: bool = False, partial_seconds: float = 0.0,
                **options) -> pb.SolveRequest:
        """The SolveRequest that solve() sends (see solve() for the arguments)."""
        req = self._request(model, p, u0, tspan, saveat, algorithm, n, precision, batch_size,
                            request_id, outputs, return_inputs, options, sensitivities)[0]
        _set_reductions(req, reduce, hist, keep_states, partial_seconds)
        return req

    def _request(self, model, p, u0, tspan, saveat, algorithm, n, precision, batch_size,
                 request_id, outputs, return_inputs, options, sensitivities=None):
        """The SolveRequest, and the model's names when they were needed (else None)."""
        req = pb.SolveRequest(batch_size=int(batch_size), request_id=request_id)
        if isinstance(outputs, str):
            outputs = [outputs]
        req.outputs.extend(list(outputs or []))
        if isinstance(sensitivities, str):
            sensitivities = [sensitivities]
        req.sensitivities.extend(list(sensitivities or []))
        # By default the server returns the inputs used when it draws them (samplers).
        if return_inputs is None:
            return_inputs = isinstance(p, Sampler) or isinstance(u0, Sampler)
        req.return_inputs = bool(return_inputs)
        if isinstance(model, Model):
            req.model_id = model.model_id
        elif isinstance(model, RawKernel):
            model.fill(req.raw_kernel)
        else:
            req.model_source = _model_source(model)
        o = req.options
        o.algorithm = algorithm
        o.precision = _precision(precision)
        times = None
        if saveat is not None and not np.isscalar(saveat):
            times = np.asarray(saveat, dtype=np.float64)
            if times.ndim not in (1, 2) or times.shape[-1] == 0:
                raise ValueError(f"saveat: a step, a 1-D sequence of times or a 2-D array "
                                 f"(one row per trajectory), got shape {times.shape}")
        if tspan is None:
            if times is None:
                raise ValueError("tspan=(t0, t1) is required unless saveat lists the times")
            first, last = times[..., 0], times[..., -1]
            tspan = (np.where(first >= 0, 0.0, first), last)
        if len(tspan) != 2:
            raise ValueError(f"tspan: (t0, t1), got {tspan!r}")
        t0, t1 = (np.asarray(t, dtype=np.float64) for t in tspan)
        for t, name in ((t0, "t0"), (t1, "t1")):
            if t.ndim > 1:
                raise ValueError(f"tspan: {name} must be a number or a 1-D array (one per "
                                 f"trajectory), got shape {t.shape}")
        # A number (or one row) in the options; one value per trajectory as a tensor.
        if t0.ndim == 0:
            o.t0 = float(t0)
        else:
            req.t0.CopyFrom(_tensor.from_numpy(t0, "t0"))
        if t1.ndim == 0:
            o.t1 = float(t1)
        else:
            req.t1.CopyFrom(_tensor.from_numpy(t1, "t1"))
        if times is not None and times.ndim == 2:
            req.saveat.CopyFrom(_tensor.from_numpy(times, "saveat"))
        elif times is not None:
            o.saveat.times.extend(times.tolist())
        elif saveat is not None:
            if t0.ndim > 0 or t1.ndim > 0:
                raise ValueError("saveat: a step needs one shared tspan; give the times "
                                 "(one row per trajectory) instead")
            o.saveat.range.start, o.saveat.range.stop = o.t0, o.t1
            o.saveat.range.step = float(saveat)
        seed = options.pop("seed", None)
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or \
                    not 0 <= int(seed) < 2**64:
                raise ValueError(f"seed: an integer in [0, 2**64), got {seed!r}")
            req.seed = int(seed)
        for key, value in options.items():
            if key not in _OPTIONS:
                raise TypeError(f"solve() got an unexpected keyword argument {key!r} (options: "
                                f"{', '.join(_OPTIONS)})")
            if value is not None:
                setattr(o, key, value)
        names = model if isinstance(model, Model) else None
        if isinstance(model, RawKernel):
            names = model.with_zero_defaults()
        if p is not None or u0 is not None:
            for value, inputs, what in ((p, req.params, "p"), (u0, req.u0, "u0")):
                if isinstance(value, dict):
                    if names is None:
                        names = self.compile(model) if not isinstance(model, Model) else model
                    value = _by_name(value, names, what)
                _set_inputs(inputs, value, what)
        if n is not None:
            req.trajectories = int(n)
        return req, names

    def solve_stream(self, model, p=None, u0=None, tspan=None, saveat=None,
                     algorithm="tsit5", timeout: Optional[float] = None,
                     **kwargs) -> SolveStream:
        """Starts a solve and returns its stream of Chunks (see SolveStream)."""
        req = self.request(model, p=p, u0=u0, tspan=tspan, saveat=saveat, algorithm=algorithm,
                           **kwargs)
        return self.send(req, timeout=timeout)

    def send(self, request: pb.SolveRequest, timeout: Optional[float] = None) -> SolveStream:
        """Sends a prepared SolveRequest; its stream of Chunks."""
        try:
            return SolveStream(self._stub.Solve(request, timeout=timeout,
                                                metadata=self._metadata))
        except EnsolveError as e:
            raise e.with_source(request.model_source) from None

    # -- detached jobs (docs/api.md, "Detached jobs") ------------------------------------

    def submit(self, model, timeout: Optional[float] = None, **kwargs) -> pb.SolveAccepted:
        """Starts a detached job: it runs on the server whether or not this client stays
        connected. The arguments are solve()'s; returns its SolveAccepted once admitted
        (.job_id names the job; the same request_id again answers the same job)."""
        req = self.request(model, **kwargs)
        try:
            return self._stub.SubmitJob(req, timeout=timeout, metadata=self._metadata).accepted
        except grpc.RpcError as e:
            raise EnsolveError.from_rpc(e).with_source(req.model_source) from None

    def watch_stream(self, job_id: str, from_offset: int = 0,
                     accepted: Optional[pb.SolveAccepted] = None,
                     timeout: Optional[float] = None) -> SolveStream:
        """A job's stream of Chunks from message `from_offset` on (0: from its start),
        across pauses and dropped connections (see ensolve.jobs.WatchCall). Past 0, pass
        the `accepted` of the earlier stream (its SolveAccepted is message 0)."""
        if from_offset > 0 and accepted is None:
            raise ValueError("watch_stream: from_offset > 0 needs the job's SolveAccepted "
                             "(accepted=, the earlier stream's .accepted)")
        call = WatchCall(self._stub, job_id, self._metadata, from_offset, timeout)
        try:
            return SolveStream(call, accepted if from_offset > 0 else None)
        except EnsolveError:
            call.cancel()
            raise

    def watch(self, job_id: str, progress: Optional[bool] = None, hist=None,
              timeout: Optional[float] = None):
        """A job's whole result, as solve() returns it (a Statistics for a job of
        reductions without states; `hist`: the bin edges it was submitted with)."""
        stream = self.watch_stream(job_id, timeout=timeout)
        a = stream.accepted
        if a.HasField("reductions") and not a.reductions.states_streamed:
            return _statistics(stream, hist)
        sol = _assemble(stream, pb.SolveRequest(), _progress_bar(stream.trajectories, progress))
        if a.HasField("reductions"):
            sol.stats = _decode_statistics(stream, hist, sol.summary)
        return sol

    def cancel_job(self, job_id: str, timeout: Optional[float] = None) -> pb.JobInfo:
        """Cancels a detached job; its kept messages stay until it expires."""
        try:
            return self._stub.CancelJob(pb.CancelJobRequest(job_id=job_id), timeout=timeout,
                                        metadata=self._metadata)
        except grpc.RpcError as e:
            raise EnsolveError.from_rpc(e) from None

    def list_jobs(self, timeout: Optional[float] = None) -> List[pb.JobInfo]:
        """This tenant's kept detached jobs, oldest first."""
        try:
            return list(self._stub.ListJobs(pb.ListJobsRequest(), timeout=timeout,
                                            metadata=self._metadata).jobs)
        except grpc.RpcError as e:
            raise EnsolveError.from_rpc(e) from None

    def solve(self, model, p=None, u0=None, tspan=None, saveat=None, algorithm="tsit5",
              n: Optional[int] = None, precision="float64", timeout: Optional[float] = None,
              progress: Optional[bool] = None, batch_size: int = 0, request_id: str = "",
              outputs: Optional[Sequence[str]] = None, return_inputs: Optional[bool] = None,
              sensitivities: Optional[Sequence[str]] = None,
              reduce: Optional[Sequence[str]] = None, hist=None, keep_states: bool = False,
              **options):
        """Solves an ensemble and returns the whole Solution.

        model: model text, a path to a *.ode file, or an ensolve.Model from compile().
        p, u0: parameters / initial states: an array of one row (shared) or one row per
          trajectory, a dict {name: value or column} (other names keep their defaults), a
          Sampler (uniform(), normal(), grid()), or None for the model's defaults.
        tspan: (t0, t1), each a number or an array of one value per trajectory (t1 < t0
          integrates backward). Optional when saveat lists times (then (0, last time)).
        saveat: a step (save every step from t0 to t1), a sequence of times, a 2-D array
          of times with one row per trajectory, or None (the final state only). With
          per-trajectory times (or t1 and no saveat) sol.t has one row per trajectory.
        algorithm: "euler", "rk4", "tsit5", ... (Client.info().algorithms).
        n: the number of trajectories (default: the rows of p/u0, or a grid's points).
        precision: "float32" or "float64" (or the NumPy dtypes): the dtype of u.
        timeout: seconds before DEADLINE_EXCEEDED.
        outputs: save only these states and named outputs of the model, in this order
          (sol.state_names); default: every state.
        return_inputs: have the server send the parameters and initial states each
          trajectory used (sol.p, sol.u0 of shape (trajectories, n)); default: when a
          sampler draws them. Otherwise sol.p / sol.u0 are the arrays sent, as sent.
        sensitivities: parameter names: also return sol.sensitivities, d(saved quantity)/d
          (parameter) of shape (trajectories, save points, states, len(sensitivities)),
          from the forward sensitivity equations (docs/sensitivities.md).
        progress: a tqdm progress bar; default: when tqdm is installed and stdout is a
          terminal.
        options: adaptive, abstol, reltol, dt, dtmin, max_steps (ensolve.v1.SolveOptions),
          and seed: the seed of an SDE solve's Wiener increments (algorithms "em", "siea";
          default 0), so the same seed gives the same paths.
        reduce: statistics across the trajectories computed on the server at every save
          point, of the saved quantities (outputs): any of "mean", "var" (unbiased), "min",
          "max", "hist". hist: histogram bin edges, bins + 1 increasing values or one row
          per quantity (implies "hist"). keep_states: also return the per-trajectory states.
          With reduce (or hist) solve() returns an ensolve.Statistics (arrays of shape
          (save points, quantities)) when keep_states is False (no state is sent: a
          10^8-trajectory ensemble returns kilobytes), else a Solution whose .stats holds it.

        Raises EnsolveError (with .code and .message) when the server refuses or fails.
        """
        req, names = self._request(model, p, u0, tspan, saveat, algorithm, n, precision,
                                   batch_size, request_id, outputs, return_inputs, options,
                                   sensitivities)
        _set_reductions(req, reduce, hist, keep_states, 0.0)
        stream = self.send(req, timeout=timeout)
        if req.HasField("reductions") and not keep_states:
            return _statistics(stream, hist)
        sol = _assemble(stream, req, _progress_bar(stream.trajectories, progress),
                        names.param_names if names is not None else None)
        if req.HasField("reductions"):
            sol.stats = _decode_statistics(stream, hist, sol.summary)
        return sol


def _set_reductions(req: pb.SolveRequest, reduce, hist, keep_states: bool,
                    partial_seconds: float) -> None:
    if reduce is None and hist is None:
        return
    req.reductions.CopyFrom(reductions_message(reduce, hist, keep_states, partial_seconds))


def _summary(s: pb.SolveSummary) -> dict:
    return {"trajectories": s.trajectories, "retcode_counts": dict(s.retcode_counts),
            "wall_seconds": s.wall_seconds, "queue_seconds": s.queue_seconds,
            "solve_seconds": s.solve_seconds, "first_batch_seconds": s.first_batch_seconds,
            "batches": s.batches, "devices": list(s.devices),
            "bytes_streamed": s.bytes_streamed}


def _decode_statistics(stream: SolveStream, hist, summary: dict) -> Statistics:
    r = stream.reduction
    if r is None or not r.final:
        raise EnsolveError(grpc.StatusCode.DATA_LOSS, "the stream ended without its final "
                           "ReductionResult")
    a = stream.accepted
    try:
        s = Statistics.from_proto(a.reductions, r, a.save_times, hist)
    except ValueError as e:
        raise EnsolveError(grpc.StatusCode.DATA_LOSS, str(e)) from None
    s.summary = summary
    return s


def _statistics(stream: SolveStream, hist) -> Statistics:
    """Reads a stream that carries statistics only."""
    for _ in stream:
        stream.cancel()
        raise EnsolveError(grpc.StatusCode.DATA_LOSS, "a ResultChunk although states are "
                           "not streamed")
    return _decode_statistics(stream, hist, _summary(stream.summary))


def _num_sensitivities(accepted) -> int:
    """The parameters of the stream's sensitivities (0 from servers without them)."""
    if "sensitivities" not in accepted.DESCRIPTOR.fields_by_name:
        return 0
    return len(accepted.sensitivities)


def _by_name(values: dict, model: Model, what: str) -> np.ndarray:
    """Columns by name over the model's defaults: {"rho": array} -> [n, params]."""
    names, defaults = ((model.param_names, model.param_defaults) if what == "p"
                       else (model.state_names, model.state_defaults))
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"{what}: {', '.join(unknown)} not in the model's "
                         f"{'parameters' if what == 'p' else 'states'} ({', '.join(names)})")
    columns = [np.asarray(values.get(name, d), dtype=np.float64) for name, d in
               zip(names, defaults)]
    rows = max((c.size for c in columns if c.ndim > 0), default=1)
    out = np.empty((rows, len(names)))
    for j, c in enumerate(columns):
        if c.ndim > 1 or (c.ndim == 1 and c.size not in (1, rows)):
            raise ValueError(f"{what}[{names[j]!r}]: {c.size} values, others have {rows}")
        out[:, j] = c.reshape(-1) if c.ndim == 1 else c
    return out


def _set_inputs(inputs: pb.Inputs, value, what: str) -> None:
    if value is None:
        return
    if isinstance(value, Sampler):
        inputs.sampler.CopyFrom(value.message)
    else:
        inputs.values.CopyFrom(_tensor.from_numpy(value, what))


def _assemble(stream: SolveStream, req: pb.SolveRequest, bar,
              param_names: Optional[List[str]] = None) -> Solution:
    a = stream.accepted
    n, num_save, num_states = a.trajectories, _num_save(a), len(a.state_names)
    # Per-trajectory save times come with the chunks.
    t = np.array(a.save_times, dtype=np.float64) if len(a.save_times) == num_save else \
        np.full((n, num_save), np.nan)
    u = np.empty((n, num_save, num_states), dtype=stream._dtype.newbyteorder("="))
    num_sens = _num_sensitivities(a)
    sens = np.empty((n, num_save, num_states, num_sens), dtype=u.dtype) if num_sens else None
    retcode = np.empty(n, dtype=np.uint8)
    accepted = np.empty(n, dtype=np.int32)
    rejected = np.empty(n, dtype=np.int32)
    t_final: Optional[np.ndarray] = None
    rhs_evals: Optional[np.ndarray] = None
    events_fired: Optional[np.ndarray] = None
    seen = np.zeros(n, dtype=bool)
    used = {}  # the inputs the server returned (return_inputs)
    try:
        for c in stream:
            end = c.first + c.count
            if c.first < 0 or end > n or seen[c.first:end].any():
                stream.cancel()
                raise EnsolveError(grpc.StatusCode.DATA_LOSS, f"chunk [{c.first}, {end}) is "
                                   f"outside [0, {n}) or arrived twice")
            seen[c.first:end] = True
            u[c.first:end] = c.u
            if sens is not None:
                sens[c.first:end] = c.sensitivities
            retcode[c.first:end] = c.retcode
            accepted[c.first:end] = c.accepted_steps
            rejected[c.first:end] = c.rejected_steps
            if c.t_final is not None:
                if t_final is None:
                    t_final = np.full(n, np.nan)
                t_final[c.first:end] = c.t_final
            if c.rhs_evals is not None:
                if rhs_evals is None:
                    rhs_evals = np.zeros(n, dtype=np.int32)
                rhs_evals[c.first:end] = c.rhs_evals
            if c.events_fired is not None:
                if events_fired is None:
                    events_fired = np.zeros(n, dtype=np.int32)
                events_fired[c.first:end] = c.events_fired
            if t.ndim == 2 and c.t is not None:
                t[c.first:end] = c.t
            for name, rows in (("p", c.p), ("u0", c.u0)):
                if rows is not None:
                    if name not in used:
                        used[name] = np.full((n, rows.shape[1]), np.nan)
                    used[name][c.first:end] = rows
            if bar is not None:
                bar.update(c.count)
    finally:
        if bar is not None:
            bar.close()
    if not seen.all():
        raise EnsolveError(grpc.StatusCode.DATA_LOSS,
                           f"{int(np.count_nonzero(~seen))} trajectories never arrived")
    s = stream.summary
    summary = _summary(s)

    def sent(inputs: pb.Inputs):
        if inputs.WhichOneof("source") == "values":
            return _tensor.to_numpy(inputs.values).copy()
        return None

    return Solution(t=t, u=u, retcode=retcode,
                    t_final=t_final, accepted_steps=accepted, rejected_steps=rejected,
                    rhs_evals=rhs_evals, state_names=list(a.state_names),
                    p=used["p"] if "p" in used else sent(req.params),
                    u0=used["u0"] if "u0" in used else sent(req.u0),
                    param_names=param_names, sensitivities=sens,
                    sensitivity_names=list(a.sensitivities) if num_sens else None,
                    job_id=a.job_id,
                    model_id=a.model_id, summary=summary, events_fired=events_fired)
