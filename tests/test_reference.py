"""The reference engine proves itself: finite differences and independent formulations agree."""
import numpy as np
import pytest

from grader.reference import forward_mode, linear, tanh_rnn, truncation
from grader.reference.checks import FD_STEP, directional_checks

FD_RTOL = 1e-7  # central differences in float64 at step 1e-6 are good to about 1e-9 relative


def assert_fd_agrees(loss, params, grads, rng):
    """<u, grad> equals the central difference along three random directions u, per parameter."""
    for label, fd, analytic in directional_checks(loss, params, grads, rng, directions=3):
        assert abs(fd - analytic) <= FD_RTOL * max(abs(analytic), 1e-3), label


@pytest.fixture
def rng():
    return np.random.default_rng(20261124)


def linear_params(rng, T=6, d=3, h=4, q=2):
    W_hh = rng.standard_normal((h, h)) / np.sqrt(h)
    return dict(W_hx=rng.standard_normal((h, d)) / np.sqrt(d), W_hh=0.9 * W_hh / max(abs(np.linalg.eigvals(W_hh))),
                W_qh=rng.standard_normal((q, h)) / np.sqrt(h), X=rng.standard_normal((T, d)),
                h0=rng.standard_normal(h), Y=rng.standard_normal((T, q)))


def tanh_params(rng, T=5, B=3, d=4, h=3, q=5):
    return dict(W_xh=rng.standard_normal((d, h)) / np.sqrt(d), W_hh=rng.standard_normal((h, h)) / np.sqrt(h),
                b_h=0.1 * rng.standard_normal(h), W_hq=rng.standard_normal((h, q)) / np.sqrt(h),
                b_q=0.1 * rng.standard_normal(q), X=rng.standard_normal((T, B, d)),
                H0=0.5 * rng.standard_normal((B, h)), Y=rng.integers(0, q, size=(T, B)))


def test_linear_bptt_matches_finite_differences(rng):
    p = linear_params(rng)

    def loss(W_hx, W_hh, W_qh, X, h0, Y):
        return linear.squared_loss(linear.linear_forward(W_hx, W_hh, W_qh, X, h0)[1], Y)

    grads = linear.linear_bptt(**p)
    assert_fd_agrees(loss, p, {n: grads["d" + n] for n in ("W_qh", "W_hx", "W_hh")}, rng)


def test_linear_hidden_grads_match_finite_differences_in_each_state(rng):
    """dL/dh_t is the total derivative: perturb h_t and run the rest of the sequence from there."""
    p = linear_params(rng)
    H, O = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    dL_dH = linear.linear_bptt(**p)["dL_dh"]
    for t in range(p["X"].shape[0]):
        def loss_from(h_t, t=t):
            _, O_rest = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"][t + 1:], h_t)
            O_all = np.vstack([O[:t], p["W_qh"] @ h_t, O_rest])
            return linear.squared_loss(O_all, p["Y"])
        assert_fd_agrees(lambda h_t: loss_from(h_t), {"h_t": H[t]}, {"h_t": dL_dH[t]}, rng)


def test_closed_form_agrees_with_recursion(rng):
    p = linear_params(rng, T=9)
    _, O = linear.linear_forward(p["W_hx"], p["W_hh"], p["W_qh"], p["X"], p["h0"])
    dL_dO = linear.output_grads(O, p["Y"])
    recursion = linear.hidden_grads(p["W_hh"], p["W_qh"], dL_dO)
    for t in range(1, 10):
        closed = linear.hidden_grad_closed_form(p["W_hh"], p["W_qh"], dL_dO, t)
        np.testing.assert_allclose(closed, recursion[t - 1], rtol=1e-12, atol=1e-14)


def test_tanh_bptt_matches_finite_differences(rng):
    p = tanh_params(rng)

    def loss(W_xh, W_hh, b_h, W_hq, b_q, X, H0, Y):
        return tanh_rnn.cross_entropy(tanh_rnn.tanh_forward(W_xh, W_hh, b_h, W_hq, b_q, X, H0).O, Y)

    grads = tanh_rnn.tanh_bptt(**p)
    names = ("W_xh", "W_hh", "b_h", "W_hq", "b_q", "H0")
    assert_fd_agrees(loss, p, {n: grads["d" + n] for n in names}, rng)


def test_forward_mode_equals_reverse_mode_for_w_hh(rng):
    """RTRL over vec(W_hh) (9.7.4) and reverse-mode BPTT give the same dL/dW_hh (batch of one)."""
    p = tanh_params(rng, B=1)
    fwd = tanh_rnn.tanh_forward(p["W_xh"], p["W_hh"], p["b_h"], p["W_hq"], p["b_q"], p["X"], p["H0"])
    h = p["W_hh"].shape[0]
    H, H_prev, slope = fwd.H[:, 0], fwd.H_prev[:, 0], 1.0 - fwd.H[:, 0] ** 2
    # h_t[j] = tanh(sum_i h_{t-1}[i] W_hh[i, j] + ...): d h_t[j] / d W_hh[i, k] = slope[j] h_{t-1}[i] [j == k]
    b = np.einsum("tj,ti,jk->tjik", slope, H_prev, np.eye(h)).reshape(len(H), h, h * h)
    c = slope[:, :, None] * p["W_hh"].T[None]
    a = forward_mode.accumulate(b, c)
    dO = tanh_rnn.output_grads(fwd.O, p["Y"])[:, 0]
    dL_dH_local = dO @ p["W_hq"].T
    forward = np.einsum("tj,tjp->p", dL_dH_local, a).reshape(h, h)
    reverse = tanh_rnn.tanh_bptt(**p)["dW_hh"]
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-15)


def test_scalar_forward_mode_matches_finite_differences(rng):
    h, d, T = 3, 2, 7
    args = dict(w=0.9, A=rng.standard_normal((h, h)) / np.sqrt(h), U=rng.standard_normal((h, d)),
                v=rng.standard_normal(h), X=rng.standard_normal((T, d)), y=rng.standard_normal(T),
                h0=rng.standard_normal(h))
    a, dL_dw = forward_mode.scalar_rnn_gradient(**args)
    fd = (forward_mode.scalar_rnn_loss(**{**args, "w": args["w"] + FD_STEP})
          - forward_mode.scalar_rnn_loss(**{**args, "w": args["w"] - FD_STEP})) / (2 * FD_STEP)
    assert abs(fd - dL_dw) <= FD_RTOL * abs(dL_dw)
    for t in range(T):
        h_plus = forward_mode.scalar_rnn_forward(args["w"] + FD_STEP, args["A"], args["U"], args["X"], args["h0"])
        h_minus = forward_mode.scalar_rnn_forward(args["w"] - FD_STEP, args["A"], args["U"], args["X"], args["h0"])
        np.testing.assert_allclose((h_plus[t] - h_minus[t]) / (2 * FD_STEP), a[t], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("mode", ["sliding", "chunked"])
@pytest.mark.parametrize("tau", [7, 8, 20])
def test_truncation_with_tau_at_least_T_is_full_bptt(rng, mode, tau):
    p = tanh_params(rng, T=7)
    full = tanh_rnn.tanh_bptt(**p)
    truncated = getattr(truncation, f"{mode}_bptt")(**p, tau=tau)
    for name, grad in truncated.items():
        np.testing.assert_allclose(grad, full[name], rtol=1e-12, atol=1e-15, err_msg=name)


def test_truncation_to_one_step_is_the_same_in_both_modes(rng):
    p = tanh_params(rng, T=6)
    sliding, chunked = truncation.sliding_bptt(**p, tau=1), truncation.chunked_bptt(**p, tau=1)
    local = tanh_rnn.tanh_bptt(**p, rule=tanh_rnn.BackwardRule(recurrence="none"))
    for name in truncation.PARAM_GRADS:
        np.testing.assert_allclose(sliding[name], chunked[name], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(sliding[name], local[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode, tau", [("sliding", 2), ("sliding", 3), ("chunked", 3), ("chunked", 4)])
def test_truncation_matches_finite_differences_of_a_detached_loss(rng, mode, tau):
    """Truncated gradients are exact gradients of a loss whose earlier states are held constant."""
    p = tanh_params(rng, T=7)
    carried = tanh_rnn.tanh_forward(p["W_xh"], p["W_hh"], p["b_h"], p["W_hq"], p["b_q"], p["X"], p["H0"]).H_prev
    loss_of = getattr(truncation, f"{mode}_loss")

    def loss(**params):
        return loss_of(**params, tau=tau, carried=carried)

    grads = getattr(truncation, f"{mode}_bptt")(**p, tau=tau)
    assert_fd_agrees(loss, p, {n: grads["d" + n] for n in ("W_xh", "W_hh", "b_h", "W_hq", "b_q")}, rng)


def test_train_epoch_matches_an_explicit_unrolled_d2l_epoch(rng):
    """d2l's train_epoch_ch8 with sequential partitioning, written out minibatch by minibatch: the
    state's values carried, gradients stopped at each boundary (finite differences of the loss with
    the incoming state held constant), clipping at theta = 1 after the mean loss."""
    from grader.reference import clipping, minibatch
    p = tanh_params(rng, T=4, B=2)
    weights = {k: 2.0 * p[k] for k in minibatch.WEIGHTS}  # large enough that clipping acts
    K, (T, B, d) = 3, p["X"].shape
    X = rng.standard_normal((K, T, B, d))
    Y = rng.integers(0, p["b_q"].shape[0], size=(K, T, B))
    steps = minibatch.train_epoch(weights, X, Y, theta=1.0)
    H = np.zeros_like(p["H0"])
    for k in range(K):
        carried = H.copy()  # state.detach_(): values kept, no gradient

        def loss(**w):
            return tanh_rnn.cross_entropy(tanh_rnn.tanh_forward(*(w[n] for n in minibatch.WEIGHTS), X[k], carried).O,
                                          Y[k])

        unclipped = {}
        for name in minibatch.WEIGHTS:
            grad = np.zeros_like(weights[name])
            for index in np.ndindex(grad.shape):
                e = np.zeros_like(grad)
                e[index] = FD_STEP
                grad[index] = (loss(**{**weights, name: weights[name] + e})
                               - loss(**{**weights, name: weights[name] - e})) / (2 * FD_STEP)
            unclipped[name] = grad
        norm = np.sqrt(sum(np.sum(g ** 2) for g in unclipped.values()))
        assert norm > 1.0, "the test must exercise clipping"
        for name in minibatch.WEIGHTS:
            np.testing.assert_allclose(steps[k].grads["d" + name], unclipped[name] / norm, rtol=1e-6, atol=1e-9)
        fwd = tanh_rnn.tanh_forward(*(weights[n] for n in minibatch.WEIGHTS), X[k], carried)
        assert abs(steps[k].loss - tanh_rnn.cross_entropy(fwd.O, Y[k])) <= 1e-12 * abs(steps[k].loss)
        H = fwd.H[-1]
        np.testing.assert_allclose(steps[k].state, H, rtol=1e-13, atol=1e-15)
    assert clipping.global_norm(list(steps[-1].grads.values())) == pytest.approx(1.0, rel=1e-12)
