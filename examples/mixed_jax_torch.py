"""One loss, two frameworks: the same training step in PyTorch and in JAX, with identical values and gradients.

    python examples/mixed_jax_torch.py

A codebase with a PyTorch model and a JAX model (a port, a teacher and a
student, a research prototype beside the production model) wants the same
loss on both sides, not two implementations that agree "roughly".  Here one
linear classifier is trained one step in each framework with the one
``agnostic_losses`` expression: cross-entropy with label smoothing plus a
Huber penalty on the logits.  The script checks that the losses, the
gradients and the updated weights agree to float64 rounding, and that the
torch side equals ``torch.nn.functional``'s own losses.
"""

from __future__ import annotations

import numpy as np

import agnostic_losses as al


def objective(logits, labels, targets):
    """The training loss, written once: it runs on whatever arrays it is given."""
    return al.cross_entropy(logits, labels, label_smoothing=0.1) + 0.5 * al.huber_loss(logits, targets, delta=1.0)


def data(seed=0, batch=16, features=8, classes=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, features))
    labels = rng.integers(0, classes, size=batch)
    targets = np.eye(classes)[labels] * 2.0  # the Huber term pulls the logits towards a margin of 2
    w = rng.normal(scale=0.3, size=(features, classes))
    return x, labels, targets, w


def torch_step(x, labels, targets, w, lr):
    import torch

    xt, yt, tt = torch.tensor(x), torch.tensor(labels), torch.tensor(targets)
    wt = torch.tensor(w, requires_grad=True)
    logits = xt @ wt
    loss = objective(logits, yt, tt)
    loss.backward()
    reference = (torch.nn.functional.cross_entropy(logits, yt, label_smoothing=0.1)
                 + 0.5 * torch.nn.functional.huber_loss(logits, tt, delta=1.0))
    assert abs(loss.item() - reference.item()) <= 1e-12 * abs(reference.item()), (loss.item(), reference.item())
    with torch.no_grad():
        new_w = wt - lr * wt.grad
    return loss.item(), wt.grad.numpy(), new_w.numpy()


def jax_step(x, labels, targets, w, lr):
    import jax

    jax.config.update("jax_enable_x64", True)  # float64, to compare with torch to the last digits
    jnp = jax.numpy

    def loss_of(w, x, labels, targets):
        return objective(x @ w, labels, targets)

    loss, grad = jax.jit(jax.value_and_grad(loss_of))(jnp.asarray(w), jnp.asarray(x), jnp.asarray(labels),
                                                      jnp.asarray(targets))
    return float(loss), np.asarray(grad), np.asarray(jnp.asarray(w) - lr * grad)


def main() -> int:
    x, labels, targets, w = data()
    lr = 0.1
    t_loss, t_grad, t_w = torch_step(x, labels, targets, w, lr)
    j_loss, j_grad, j_w = jax_step(x, labels, targets, w, lr)
    print(f"torch loss {t_loss:.15f}")
    print(f"JAX   loss {j_loss:.15f}")
    grad_diff = float(np.max(np.abs(t_grad - j_grad)))
    weight_diff = float(np.max(np.abs(t_w - j_w)))
    print(f"max |grad_torch - grad_jax| = {grad_diff:.1e}, max |w_torch - w_jax| after the step = {weight_diff:.1e}")
    same = abs(t_loss - j_loss) <= 1e-12 * abs(t_loss) and grad_diff <= 1e-12 and weight_diff <= 1e-12
    print("identical to float64 rounding" if same else "MISMATCH")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
