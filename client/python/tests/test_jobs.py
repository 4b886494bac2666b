"""Detached jobs from Python against a real ensolved: submit, watch (equal to solve), a
stream re-attached across pauses, cancel_job, list_jobs, and their errors."""

import grpc
import numpy as np
import pytest

import ensolve
from conftest import Server
from ensolve.v1 import solver_pb2 as pb

P = np.random.default_rng(7).random((3000, 3)) * (10, 28, 8 / 3)


def _wait_for(client, job_id, state, tries=600):
    import time
    for _ in range(tries):
        jobs = {j.job_id: j for j in client.list_jobs()}
        if job_id in jobs and jobs[job_id].state == state:
            return jobs[job_id]
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} never reached state {state}")


def test_watched_job_equals_its_solve_bitwise(client):
    kwargs = dict(p=P, tspan=(0, 5), saveat=0.5, batch_size=400)
    solved = client.solve(ensolve.LORENZ, **kwargs)
    accepted = client.submit(ensolve.LORENZ, **kwargs)
    assert len(accepted.job_id) == 32 and accepted.trajectories == 3000
    _wait_for(client, accepted.job_id, pb.JobInfo.STATE_SUCCEEDED)
    watched = client.watch(accepted.job_id)
    np.testing.assert_array_equal(watched.u, solved.u)
    np.testing.assert_array_equal(watched.retcode, solved.retcode)
    np.testing.assert_array_equal(watched.accepted_steps, solved.accepted_steps)
    assert watched.job_id == accepted.job_id


def test_watch_goes_on_through_pauses_and_from_an_offset():
    # 64 KiB chunks, 2 MiB kept per job: the job pauses many times before it is done.
    s = Server("--max_chunk_bytes=65536", "--job_kept_bytes=2097152")
    try:
        with ensolve.Client(s.target) as c:
            kwargs = dict(p=P, tspan=(0, 5), saveat=0.05, batch_size=200)
            solved = c.solve(ensolve.LORENZ, **kwargs)
            accepted = c.submit(ensolve.LORENZ, request_id="py-pause", **kwargs)
            _wait_for(c, accepted.job_id, pb.JobInfo.STATE_PAUSED)
            # Two chunks (messages 1 and 2), then the rest from offset 3: every trajectory once.
            first = c.watch_stream(accepted.job_id)
            head = [next(first), next(first)]  # SolveAccepted is read by watch_stream
            first.cancel()
            assert first.offset == 3
            rest = c.watch_stream(accepted.job_id, from_offset=3, accepted=first.accepted)
            u = np.full_like(solved.u, np.nan)
            for chunk in head + list(rest):
                assert np.isnan(u[chunk.first:chunk.first + chunk.count]).all()
                u[chunk.first:chunk.first + chunk.count] = chunk.u
            np.testing.assert_array_equal(u, solved.u)
            with pytest.raises(ensolve.EnsolveError) as e:
                next(iter(c.watch_stream(accepted.job_id, from_offset=1,
                                         accepted=first.accepted)))
            assert e.value.code == grpc.StatusCode.OUT_OF_RANGE
            # The watch from 3 re-attached at each pause, acknowledging ever more.
            assert "were acknowledged by an earlier watch" in e.value.message
    finally:
        s.stop()


def test_cancel_and_unknown_jobs(client):
    accepted = client.submit(ensolve.LORENZ, p=P[:100], tspan=(0, 1e6), adaptive=False,
                             dt=0.01, max_steps=200000000, batch_size=10)
    info = client.cancel_job(accepted.job_id)
    assert info.job_id == accepted.job_id
    _wait_for(client, accepted.job_id, pb.JobInfo.STATE_CANCELLED)
    with pytest.raises(ensolve.EnsolveError) as e:
        client.watch(accepted.job_id)
    assert e.value.code == grpc.StatusCode.CANCELLED and "CancelJob" in e.value.message
    with pytest.raises(ensolve.EnsolveError) as e:
        client.watch("0" * 32)
    assert e.value.code == grpc.StatusCode.NOT_FOUND and "job_id" in e.value.message
    with pytest.raises(ensolve.EnsolveError) as e:
        client.submit("state x\nx' = y\n", tspan=(0, 1))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT and "line 2" in e.value.message
