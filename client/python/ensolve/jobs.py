"""Detached jobs (docs/api.md, "Detached jobs"): the stream of a job watched across
re-attaches, as the one call SolveStream reads."""

import time
from typing import Optional

import grpc

from ensolve.v1 import solver_pb2 as pb

# Watches again after a dropped connection (UNAVAILABLE) this many times in a row.
WATCH_RETRIES = 5


class WatchCall:
    """Iterates over a job's SolveResponses from `from_offset` on, watching again where the
    server pauses the job for room (an OK end before the summary: watching from the offset
    reached acknowledges what came and lets the job go on) and where the connection drops,
    so that no message is lost or repeated. `offset` is the number of the next message."""

    def __init__(self, stub, job_id: str, metadata, from_offset: int = 0,
                 timeout: Optional[float] = None):
        self._stub, self._job_id, self._metadata = stub, job_id, metadata
        self._timeout = timeout
        self.offset = from_offset
        self._call = None
        self._cancelled = False
        self._done = False
        self._failures = 0
        self._backoff = 0.1
        self._progressed = False

    def _watch(self):
        self._progressed = False
        self._call = self._stub.WatchJob(
            pb.WatchJobRequest(job_id=self._job_id, from_offset=self.offset),
            timeout=self._timeout, metadata=self._metadata)

    def __iter__(self):
        return self

    def __next__(self) -> pb.SolveResponse:
        while not self._done:
            if self._call is None:
                self._watch()
            try:
                m = next(self._call)
            except StopIteration:
                # OK before the summary: paused for room; watch on from here.
                self._call = None
                self._wait()
                continue
            except grpc.RpcError as e:
                self._call = None
                if self._cancelled or e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                self._failures = 0 if self._progressed else self._failures + 1
                if self._failures > WATCH_RETRIES:
                    raise
                self._wait()
                continue
            self.offset += 1
            self._progressed = True
            if m.WhichOneof("message") == "summary":
                self._done = True
            return m
        raise StopIteration

    def _wait(self) -> None:
        if self._progressed:
            self._backoff = 0.1
            return
        time.sleep(self._backoff)
        self._backoff = min(2 * self._backoff, 5.0)

    def cancel(self) -> None:
        """Stops watching (the job goes on; Client.cancel_job stops it)."""
        self._cancelled = True
        self._done = True
        if self._call is not None:
            self._call.cancel()
