"""Seeing the game on 2-D data, as GAN Lab draws it, from minigan's own numbers.

One frame of the game shows, over the plane of the data:
  * D's probability sigmoid(D(x)) that a point x is real, as a heat map (D's "surface");
  * the real points and the generated points G(z) for a fixed batch of noise z;
  * at the generated points, arrows -dL_G/dx: the direction in which G's loss falls fastest when a
    generated point x = G(z) moves. These are exactly the numbers the trainer's G step receives from
    D (``D.backward(grad, param_grads=False)`` in ``minigan.train.GAN.train_step``) before G's own
    backward turns them into parameter gradients;
  * when z is 2-D, the image under G of a grid of lines in z space (the "warped noise grid"): G is a
    continuous map, so each straight line in z becomes a continuous curve in the plane.

    game_view(gan, real)            -> the frame's numbers (a dict of NumPy arrays)
    draw_game(ax, view)             draws them on a matplotlib Axes
    warped_noise_lines(gan)         the warped grid (z_dim 2 only)
    save_game(gan, real, path)      one frame as a PNG, written atomically
    game_image(gan, real)           one frame as an RGB array (for animations)
    save_game_gif(images, path)     such arrays as an animated GIF, written atomically

Only for 2-D points and an unpacked D (pack == 1): a packed D judges pairs of points, so it has no
probability for a single point of the plane. matplotlib is imported only inside the drawing functions,
so ``import minigan.game`` stays fast.
"""
from __future__ import annotations

import io

from . import backend, losses
from .layers import eval_mode, no_grad

GRID_BATCH = 16384  # grid points per forward pass of D: bounds the memory of a fine heat map


def _check_points_game(gan, real=None):
    """Raise ValueError unless the game can be drawn: pack 1, and 2-D points (when ``real`` is given)."""
    if gan.pack != 1:
        raise ValueError(f"the game view needs an unpacked discriminator (pack == 1), got pack={gan.pack}: "
                         f"a packed D judges {gan.pack} points at once, so it gives no probability for one point")
    if real is not None:
        shape = tuple(getattr(real, "shape", ()))
        if len(shape) != 2 or shape[1] != 2 or shape[0] < 1:
            raise ValueError(f"the game view is only for 2-D data: expected real points of shape (N, 2), got {shape}")


def _generated(G, z):
    """G(z) in evaluation mode, G's mode restored; raises ValueError unless the output is (N, 2)."""
    with eval_mode(G), no_grad():
        x = G(z)
    if tuple(x.shape[1:]) != (2,):
        raise ValueError(f"the game view is only for 2-D data: G makes samples of shape {tuple(x.shape[1:])}, "
                         f"expected (2,)")
    return x


def _default_bounds(points, margin: float = 0.15):
    """A square box (xmin, xmax, ymin, ymax) around ``points`` (M, 2), ``margin`` of its side added each way."""
    import numpy as np  # host-side geometry

    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2, 1e-3) * (1 + margin)
    return np.array([centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half])


def game_view(gan, real, n_fake: int = 500, seed: int = 0, resolution: int = 100, *, bounds=None) -> dict:
    """The numbers of one frame of the game, as NumPy arrays (what the models computed in their dtype).

    gan: a ``minigan.train.GAN`` on 2-D points with pack == 1 (else ValueError); real: real points (N, 2),
    NumPy or the backend's; n_fake: how many points G generates, from the fixed noise ``seed`` (the same
    z at every call, so frames of a run are comparable; G is ``gan.G``, the generator being trained, not
    an averaged G_ema: the arrows are what its backward receives); resolution: the heat map's grid is
    resolution x resolution; bounds: (xmin, xmax, ymin, ymax) of the plane drawn, by default a square
    around the real and generated points (give the same bounds to every frame of an animation).

    Returns a dict (H = W = resolution):
      xx, yy    (H, W)        the plane's grid, xx[i, j] = x_j, yy[i, j] = y_i (np.meshgrid's "xy" order)
      prob      (H, W)        D's probability sigmoid(D(x)) that the grid point is real
      real      (N, 2)        the real points
      z         (n_fake, z_dim) the noise
      fake      (n_fake, 2)   the generated points x_i = G(z_i)
      logit_fake (n_fake,)    D's logits a_i = D(x_i);  d_fake (n_fake,): sigmoid(a_i)
      grad      (n_fake, 2)   dL_G/dx_i, L_G = ``losses.generator_loss(D(x), gan.loss)`` on this batch
      arrows    (n_fake, 2)   -grad: the direction each generated point would move to lower L_G
      loss_g    ()            L_G itself;  bounds (4,): xmin, xmax, ymin, ymax

    The scale of the arrows: L_G is a MEAN over the n_fake points, so each point's gradient carries a
    factor 1/n_fake (for the non-saturating loss, arrows_i = (1 - D(x_i)) * grad_x a(x_i) / n_fake).
    ``grad`` and ``arrows`` are kept raw, exactly as G's backward would receive them (the 1/n_fake is NOT
    undone); n_fake * grad is the gradient of the per-point loss (-log D(x_i) for the non-saturating loss),
    independent of the batch size. ``draw_game`` rescales all arrows by one common factor for display, so
    the 1/n_fake does not matter there: it shows their directions and relative lengths.

    How: D is put in evaluation mode (BatchNorm, if any, then uses its running statistics, so one
    point's probability does not depend on the others) and G too; both modes are restored. The arrows
    come from D's backward with param_grads=False, so D's and G's gradients are left untouched.
    """
    import numpy as np  # host-side arrays for drawing

    _check_points_game(gan, real)
    if n_fake < 1 or resolution < 2:
        raise ValueError(f"expected n_fake >= 1 and resolution >= 2, got n_fake={n_fake}, resolution={resolution}")
    G, D = gan.G, gan.D
    z = gan.noise(n_fake, backend.rng(seed))                  # (n_fake, z_dim), G's dtype
    fake = _generated(G, z)                                   # (n_fake, 2)
    real_host = backend.to_numpy(real).astype(np.float64)
    fake_host = backend.to_numpy(fake)

    with eval_mode(D):
        # The trainer's G step, minus G's own backward: D's logits, G's loss, then D's input gradient.
        logits = D(fake)                                      # (n_fake, 1)
        loss_g, grad_logits = losses.generator_loss(logits, gan.loss)
        grad = D.backward(grad_logits, param_grads=False)     # (n_fake, 2) = dL_G/dx, D's grads untouched

        if bounds is None:
            bounds = _default_bounds(np.concatenate([real_host, fake_host.astype(np.float64)]))
        bounds = np.asarray(bounds, dtype=np.float64)
        xs = np.linspace(bounds[0], bounds[1], resolution)
        ys = np.linspace(bounds[2], bounds[3], resolution)
        xx, yy = np.meshgrid(xs, ys)                          # (H, W) each
        plane = np.stack([xx.ravel(), yy.ravel()], axis=1)    # (H*W, 2)
        dtype = D.dtype or fake.dtype
        with no_grad():
            grid_logits = [backend.to_numpy(D(backend.asarray(plane[i:i + GRID_BATCH], dtype=dtype)))
                           for i in range(0, len(plane), GRID_BATCH)]
    grid_logits = np.concatenate(grid_logits).reshape(xx.shape)
    logit_fake = backend.to_numpy(logits).reshape(-1)
    grad = backend.to_numpy(grad).reshape(n_fake, 2)
    return {
        "xx": xx, "yy": yy, "prob": _sigmoid(grid_logits),
        "real": real_host, "z": backend.to_numpy(z), "fake": fake_host,
        "logit_fake": logit_fake, "d_fake": _sigmoid(logit_fake),
        "grad": grad, "arrows": -grad, "loss_g": np.asarray(loss_g), "bounds": bounds,
    }


def _sigmoid(a):
    """The stable logistic function on a NumPy array (exp only of values <= 0)."""
    import numpy as np

    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def warped_noise_lines(gan, n_lines: int = 11, n_points: int = 100, extent: float = 2.5) -> list:
    """The images under G of a grid of lines in z space; z_dim == 2 only (else ValueError).

    The grid: the n_lines horizontal lines z_2 = c and the n_lines vertical lines z_1 = c, for
    c in linspace(-extent, extent, n_lines), each sampled at n_points values of the other coordinate in
    [-extent, extent] (z ~ N(0, I), so extent 2.5 covers ~97% of the noise on each axis).
    Returns 2 * n_lines NumPy arrays (n_points, 2): G's outputs along each line, horizontal lines first.
    G runs in evaluation mode (its mode restored). Because G is continuous, each line's image is a
    continuous curve; where the curves spread apart G stretches z (few z per unit of area: low
    density p_g), where they bunch up G compresses it (high density).
    """
    import numpy as np

    if gan.z_dim != 2:
        raise ValueError(f"warped noise lines need a 2-D noise space (z_dim == 2), got z_dim={gan.z_dim}")
    if n_lines < 1 or n_points < 2:
        raise ValueError(f"expected n_lines >= 1 and n_points >= 2, got {n_lines}, {n_points}")
    cs = np.linspace(-extent, extent, n_lines)
    ts = np.linspace(-extent, extent, n_points)
    horizontal = [np.stack([ts, np.full_like(ts, c)], axis=1) for c in cs]
    vertical = [np.stack([np.full_like(ts, c), ts], axis=1) for c in cs]
    z = np.concatenate(horizontal + vertical)                 # (2 * n_lines * n_points, 2)
    x = backend.to_numpy(_generated(gan.G, backend.asarray(z, dtype=gan.G.dtype)))
    return list(x.reshape(2 * n_lines, n_points, 2))


# Colours: GAN Lab's convention, green for real and purple for fake, on a heat map of the same two.
REAL_COLOUR, FAKE_COLOUR, ARROW_COLOUR, LINE_COLOUR = "#1b7837", "#762a83", "#2d004b", "#4d4d4d"


def draw_game(ax, view: dict, title: str = "", warped_lines=None, *, arrows: int = 100, colorbar: bool = True):
    """Draw one frame of the game (a dict from ``game_view``) on the matplotlib Axes ``ax``.

    The heat map is D's probability (purple 0 = "fake" ... green 1 = "real", the dashed contour
    D = 0.5); real points green (drawn over the fakes, so the modes stay visible), generated points
    purple; ``arrows`` arrows -dL_G/dx, on every k-th generated point (k = n_fake // arrows; none when
    arrows == 0), all scaled by one common factor so that the 90th percentile of their lengths is 6% of
    the plot's width (directions and relative lengths are true, the absolute scale is not: see
    ``game_view`` on the 1/n_fake); ``warped_lines``: curves (M, 2) drawn as thin grey lines.
    Returns the heat map's image (for a colour bar of one's own when colorbar=False).
    """
    import numpy as np

    xmin, xmax, ymin, ymax = view["bounds"]
    image = ax.imshow(view["prob"], origin="lower", extent=(xmin, xmax, ymin, ymax), cmap="PRGn",
                      vmin=0, vmax=1, alpha=0.75, interpolation="bilinear", aspect="equal")
    ax.contour(view["xx"], view["yy"], view["prob"], levels=[0.5], colors="k", linewidths=0.8,
               linestyles="dashed", alpha=0.6)
    for line in warped_lines or ():
        ax.plot(line[:, 0], line[:, 1], "-", color=LINE_COLOUR, linewidth=0.6, alpha=0.55, zorder=2)
    real, fake = view["real"], view["fake"]
    ax.scatter(fake[:, 0], fake[:, 1], s=7, color=FAKE_COLOUR, alpha=0.8, linewidths=0, zorder=3,
               label="generated G(z)")
    # The real points over the fakes: the modes stay visible once G's points sit on them.
    ax.scatter(real[:, 0], real[:, 1], s=9, color=REAL_COLOUR, alpha=0.9, edgecolors="white", linewidths=0.3,
               zorder=4, label="real")
    k = max(1, len(fake) // arrows) if arrows > 0 else len(fake) + 1
    at, vec = fake[::k][:arrows], view["arrows"][::k][:arrows]
    lengths = np.hypot(vec[:, 0], vec[:, 1])
    typical = float(np.percentile(lengths, 90)) if lengths.size else 0.0
    if arrows > 0 and typical > 0 and np.isfinite(typical):
        # quiver with scale_units="xy": an arrow is |v| / scale data units long.
        scale = typical / (0.06 * (xmax - xmin))
        ax.quiver(at[:, 0], at[:, 1], vec[:, 0], vec[:, 1], angles="xy", scale_units="xy", scale=scale,
                  color=ARROW_COLOUR, width=0.004, headwidth=3.5, headlength=4, zorder=5,
                  label=f"-dL_G/dx (every {k}th point)" if k > 1 else "-dL_G/dx")
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7, framealpha=0.85, markerscale=2)
    if title:
        ax.set_title(title, fontsize=10)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.03, label="D(x) = P(real)")
    return image


def _frame_figure(gan, real, title: str, bounds=None, n_fake: int = 500, resolution: int = 100):
    """A one-panel matplotlib figure of the game, with the warped grid when z_dim == 2."""
    from .viz import _pyplot

    plt = _pyplot()
    view = game_view(gan, real, n_fake=n_fake, resolution=resolution, bounds=bounds)
    lines = warped_noise_lines(gan) if gan.z_dim == 2 else None
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    draw_game(ax, view, title, lines)
    fig.tight_layout()
    return fig


def save_game(gan, real, path, title: str = "") -> None:
    """Save one frame of the game as a PNG at ``path``, atomically (the warped grid when z_dim == 2).

    gan: a GAN on 2-D points with pack == 1 (else ValueError); real: real points (N, 2) to show.
    """
    from .viz import _save

    _check_points_game(gan, real)
    _save(_frame_figure(gan, real, title), path)


def game_image(gan, real, title: str = "", bounds=None, n_fake: int = 500, resolution: int = 100, dpi: int = 100):
    """One frame of the game rendered to an RGB array (H, W, 3) uint8, e.g. for ``save_game_gif``.

    The figure is 6.2 x 5.4 inches: (540, 620, 3) at dpi 100 (smaller dpi, smaller animations).
    """
    import numpy as np

    from .viz import _pyplot

    fig = _frame_figure(gan, real, title, bounds, n_fake, resolution)
    fig.set_dpi(dpi)
    try:
        fig.canvas.draw()
        rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    finally:
        _pyplot().close(fig)
    return rgb


def save_game_gif(images: list, path, seconds_per_frame: float = 0.5, hold_last: float = 2.0) -> None:
    """Animate RGB frames (H, W, 3) uint8, all of one size, into a looping GIF, written atomically.

    The last frame stays ``hold_last`` seconds, so the end of training can be looked at.
    """
    from PIL import Image  # Pillow: a dependency (the emoji and your pictures are read with it too)

    from .storage import atomic_write

    if not images:
        raise ValueError("save_game_gif needs at least one frame")
    frames = [Image.fromarray(im) for im in images]
    # One adaptive palette per frame: the heat map's smooth gradients need more than the web palette.
    frames = [f.quantize(colors=255, method=Image.Quantize.MEDIANCUT) for f in frames]
    durations = [int(1000 * seconds_per_frame)] * (len(frames) - 1) + [int(1000 * max(hold_last, seconds_per_frame))]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0)
    atomic_write(path, lambda f: f.write(buf.getvalue()))
