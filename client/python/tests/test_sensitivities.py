"""Forward sensitivities from Python: sol.sensitivities against the analytic d u/d k of
exponential decay and central differences of Lorenz solves, outputs' sensitivities, the
.npz round trip, and a bad name as an EnsolveError with the server's message."""

import numpy as np
import pytest

import ensolve

DECAY = "state u = 1\nparam k = 0.5, c = 2\noutput cu = c*u\nu' = -k*u\n"


def test_exponential_decay_is_analytic(client):
    k = np.array([[0.3, 2.0], [1.2, 2.0]])
    t = np.array([0.5, 1.0, 2.0])
    sol = client.solve(DECAY, p=k, u0=[3.0], saveat=t, sensitivities=["k", "c"],
                       algorithm="vern9", abstol=1e-12, reltol=1e-12)
    assert sol.sensitivity_names == ["k", "c"]
    assert sol.sensitivities.shape == (2, 3, 1, 2)
    want = -t[None, :] * 3.0 * np.exp(-k[:, :1] * t[None, :])
    np.testing.assert_allclose(sol.sensitivities[:, :, 0, 0], want, rtol=1e-9)
    assert np.all(sol.sensitivities[:, :, 0, 1] == 0)  # u does not depend on c


def test_outputs_have_sensitivities_too(client):
    t = np.array([1.0, 2.0])
    sol = client.solve(DECAY, n=1, saveat=t, outputs=["cu", "u"], sensitivities="c",
                       algorithm="vern9", abstol=1e-12, reltol=1e-12)
    assert sol.sensitivities.shape == (1, 2, 2, 1)
    # d(c u)/dc = u (u itself does not depend on c).
    np.testing.assert_allclose(sol.sensitivities[0, :, 0, 0], np.exp(-0.5 * t), rtol=1e-9)
    assert np.all(sol.sensitivities[0, :, 1, 0] == 0)


def test_lorenz_matches_central_differences(client, lorenz_path):
    seed = np.random.SeedSequence().entropy
    print("seed", seed)
    rng = np.random.default_rng(seed)
    p = np.array([rng.uniform(8, 12), rng.uniform(20, 30), rng.uniform(2, 3)])
    t = np.array([0.5, 1.0, 1.5])
    kw = dict(saveat=t, algorithm="vern9", abstol=1e-12, reltol=1e-12)
    sol = client.solve(lorenz_path, p=p, n=1, sensitivities=["sigma", "rho", "beta"], **kw)
    h = 1e-5 * p
    rows = np.repeat(p[None, :], 6, axis=0)
    for j in range(3):
        rows[2 * j, j] += h[j]
        rows[2 * j + 1, j] -= h[j]
    fd = client.solve(lorenz_path, p=rows, **kw).u
    for j in range(3):
        d = (fd[2 * j] - fd[2 * j + 1]) / (2 * h[j])  # (save points, states)
        scale = np.abs(d).max(axis=0)
        err = np.abs(sol.sensitivities[0, :, :, j] - d)
        assert np.all(err <= 1e-5 * scale), (seed, j, err / scale)


def test_save_load_and_bad_names(client, tmp_path):
    sol = client.solve(DECAY, n=2, saveat=[1.0], sensitivities=["k"])
    path = tmp_path / "s.npz"
    sol.save(path)
    back = ensolve.Solution.load(path)
    np.testing.assert_array_equal(back.sensitivities, sol.sensitivities)
    assert back.sensitivity_names == ["k"]
    with pytest.raises(ensolve.EnsolveError) as e:
        client.solve(DECAY, n=1, saveat=[1.0], sensitivities=["kk"])
    assert e.value.code.name == "INVALID_ARGUMENT"
    assert "sensitivities[0]: 'kk' is not a parameter of the model (did you mean 'k'?)" in \
        e.value.message
