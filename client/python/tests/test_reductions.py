"""Statistics computed on the server (solve(reduce=..., hist=..., keep_states=...)) against
NumPy's over the full states of the same ensemble, bad requests as EnsolveErrors, and
to_xarray()."""

import grpc
import numpy as np
import pytest

import ensolve

# Fast-growing trajectories run out of max_steps (failures); `root` is NaN where x < 1.
GROWTH = "state x = 0.1\nparam mu = 1.5\noutput root = sqrt(x - 1)\nx' = mu*x\n"
EDGES = [-2, 0, 0.5, 1, 2, 5, 50, 1000]


def solve(client, **kw):
    mu = np.random.default_rng(3).uniform(-1, 30, size=(3000, 1))
    return client.solve(GROWTH, p=mu, tspan=(0, 1), saveat=0.125, outputs=["x", "root"],
                        abstol=1e-8, reltol=1e-8, max_steps=60, batch_size=700, **kw)


def test_statistics_equal_numpys_over_the_full_states(client):
    full = solve(client)
    st = solve(client, reduce=["mean", "var", "min", "max"], hist=EDGES)
    assert isinstance(st, ensolve.Statistics)
    assert st.mean.shape == (9, 2) and st.hist.shape == (9, 2, 7)
    assert st.quantities == ["x", "root"]
    np.testing.assert_array_equal(st.t, full.t)
    ok = full.retcode == 0
    assert st.trajectories == 3000 and st.failed == int((~ok).sum()) > 100
    assert st.summary["retcode_counts"]["success"] == int(ok.sum())
    u = full.u[ok]  # (successful trajectories, save points, quantities)
    finite = np.isfinite(u)
    np.testing.assert_array_equal(st.count, finite.sum(axis=0))
    np.testing.assert_array_equal(st.nonfinite, (~finite).sum(axis=0))
    assert st.nonfinite[:, 1].sum() > 100  # NaN roots were left out, not averaged
    with np.errstate(invalid="ignore", divide="ignore"):
        masked = np.ma.masked_invalid(u)
        mean = masked.mean(axis=0).filled(np.nan)
        var = masked.var(axis=0, ddof=1).filled(np.nan)
    filled = st.count > 1
    np.testing.assert_allclose(st.mean[filled], mean[filled], rtol=1e-12)
    np.testing.assert_allclose(st.var[filled], var[filled], rtol=1e-11, atol=1e-28)
    np.testing.assert_array_equal(st.min[filled], masked.min(axis=0).filled(np.nan)[filled])
    np.testing.assert_array_equal(st.max[filled], masked.max(axis=0).filled(np.nan)[filled])
    for j in range(9):
        for k in range(2):
            x = u[:, j, k][finite[:, j, k]]
            counts, _ = np.histogram(x, bins=EDGES)
            np.testing.assert_array_equal(st.hist[j, k], counts)
            assert st.underflow[j, k] == (x < EDGES[0]).sum()
            assert st.overflow[j, k] == (x > EDGES[-1]).sum()


def test_keep_states_returns_both(client):
    sol = solve(client, reduce=["mean"], keep_states=True)
    assert isinstance(sol, ensolve.Solution) and sol.u.shape == (3000, 9, 2)
    assert sol.stats.mean.shape == (9, 2) and sol.stats.var is None


def test_bad_requests_raise_with_the_field(client):
    with pytest.raises(ensolve.EnsolveError) as e:
        solve(client, reduce=["mean"], hist=[0, 2, 1])
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.message.startswith("reductions.histogram_edges[2]: 1 is not above")
    with pytest.raises(ValueError, match="unknown statistic 'median'"):
        solve(client, reduce=["median"])


def test_to_xarray(client):
    xr = pytest.importorskip("xarray")
    ds = solve(client, reduce=["mean", "var"], hist=EDGES).to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["mean"].dims == ("time", "quantity") and ds["hist"].dims == ("time", "quantity", "bin")
    assert list(ds["quantity"].values) == ["x", "root"]
