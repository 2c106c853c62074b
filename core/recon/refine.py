"""Test-time refinement: the avatar's Gaussians optimised against the photo it came from.

The avatar is posed as fitted and rendered (``core.render.rasterize``, differentiable) through the
fit's camera into the person crop. Each Gaussian the photo shows starts from the photo's colour
over the pixels it covers (:func:`back_project`); then Adam fine-tunes colours, in-image-plane
positions, sizes and opacity so the render matches the photo inside the person mask and covers the
mask. What the photo does not show (the back, splats seen edge-on) keeps the network's prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.avatar.avatar import Avatar
from core.avatar.skinning import skin_gaussians
from core.body.lbs import blend_transforms
from core.body.model import BodyModel
from core.body.parts import on_parts
from core.body.surface import surface_parts
from core.camera import PersonFrame, frame_person
from core.detect.person import PersonObservation
from core.fit.result import BodyFit
from core.gaussians import SH_C0, GaussianCloud, rgb_to_sh0
from core.progress import CancelToken, Progress, report
from core.recon.avatar_builder import avatar_spacing, least_log_scales, sample_spacing
from core.recon.hidden_side import (
    carry_changes,
    invented_materials,
    outer_layer_colours,
    smoothed_hidden,
    unseen_materials,
)
from core.render.projection import EPS_2D
from core.render.rasterize import rasterize
from core.rotations import quat_to_rotmat

#: Body parts whose Gaussians outside the photo's silhouette are carved away (:func:`_refined_cloud`).
CARVED_PARTS = ("left_hand", "right_hand")
#: Pixels along the photo's person outline whose colours blend in the background (:func:`photo_layers`).
OUTLINE_RING = 2
#: Pixels along the person mask's outline left out of the photometric term (they blend in the background).
COLOUR_RING = 1
#: Opacity logit of a Gaussian carved away (opacity 0.0001).
CARVED_LOGIT = -9.2


def crop_intrinsics(fit: BodyFit, offset: tuple[int, int], scale: float) -> torch.Tensor:
    """The fit's camera [3, 3] in the pixels of a crop ``crop = (photo − offset) · scale``."""
    K = fit.K.copy()
    K[0, 2] -= offset[0]
    K[1, 2] -= offset[1]
    K[:2] *= scale
    return torch.tensor(K, dtype=torch.float32)


@dataclass
class InputView:
    """The photo's person crop and the fit's camera in it: what refinement and scoring compare."""

    target: torch.Tensor  # [S, S, 3] photo colours in [0, 1]
    mask: torch.Tensor  # [S, S, 1] 1 inside the person mask
    viewmat: torch.Tensor  # [1, 4, 4] world-to-camera (OpenCV)
    K: torch.Tensor  # [3, 3] crop pixels
    size: int
    known: torch.Tensor  # [S, S, 1] 1 where the crop shows the photo, 0 beyond the photo's edges (a half body's legs)
    offset: tuple[int, int]  # the crop's top-left corner in photo pixels
    scale: float  # crop pixels per photo pixel
    photo_size: tuple[int, int]  # (width, height) of the photo
    background: torch.Tensor  # [S, S, 3] the photo's background continued under the person (nearest pixel)
    foreground: torch.Tensor  # [S, S, 3] the person's colours, its outline's blended pixels taken from within
    coverage: torch.Tensor  # [S, S, 1] how much of each pixel the person covers (the soft mask, 0–1)

    def in_photo(self, pixels: torch.Tensor) -> torch.Tensor:
        """Whether crop pixels [N, 2] (any, also beyond the crop) fall inside the photo: [N] bool."""
        return _in_photo(pixels, self.offset, self.scale, self.photo_size)


def _in_photo(pixels: torch.Tensor, offset: tuple[int, int], scale: float, photo_size: tuple[int, int]
              ) -> torch.Tensor:
    photo = pixels / scale + torch.tensor(offset, dtype=pixels.dtype)
    return ((photo >= 0) & (photo < torch.tensor(photo_size, dtype=pixels.dtype))).all(1)


def input_view(fit: BodyFit, rgb: np.ndarray, observation: PersonObservation, size: int = 256,
               frame: PersonFrame | None = None) -> InputView:
    """The photo ``rgb`` as refinement sees it: the person's ``size``² crop (``frame`` when it is one
    already made of that size, e.g. the network's input), its mask, the fit's camera for it."""
    if frame is None or frame.image.shape[0] != size:
        frame = frame_person(rgb, observation.mask, observation.box, size=size)
    photo_size = (rgb.shape[1], rgb.shape[0])
    centres = torch.arange(size, dtype=torch.float32) + 0.5
    grid = torch.stack(torch.meshgrid(centres, centres, indexing="xy"), -1).reshape(-1, 2)
    known = _in_photo(grid, frame.offset, frame.scale, photo_size).float().reshape(size, size, 1)
    return InputView(torch.tensor(frame.image, dtype=torch.float32) / 255,
                     torch.tensor(frame.mask > 0.5, dtype=torch.float32)[..., None],
                     torch.tensor(fit.viewmat, dtype=torch.float32)[None],
                     crop_intrinsics(fit, frame.offset, frame.scale), size, known, frame.offset, frame.scale,
                     photo_size, *photo_layers(frame.image, frame.mask > 0.5),
                     torch.tensor(frame.mask, dtype=torch.float32)[..., None])


def photo_layers(image: np.ndarray, mask: np.ndarray, ring: int = OUTLINE_RING) -> tuple[torch.Tensor, torch.Tensor]:
    """The two layers a photo's outline blends, from ``image`` [S, S, 3] uint8 and the person's ``mask``
    [S, S]: the background, each person pixel replaced by the nearest pixel outside the mask (the whole
    image when nothing lies outside), and the person, each pixel within ``ring`` px of the outline
    replaced by the nearest pixel deeper inside (the mask itself when it is thinner than that). Both
    [S, S, 3] in [0, 1]. The outline's own pixels mix the two, so copying them onto Gaussians seen at
    the edge paints pale seams down the avatar's sides."""
    from scipy import ndimage

    def nearest(where: np.ndarray) -> np.ndarray:  # each pixel takes the nearest pixel of ``where``
        if not where.any():
            return image
        _, (rows, cols) = ndimage.distance_transform_edt(~where, return_indices=True)
        return image[rows, cols]

    inner = ndimage.binary_erosion(mask, iterations=ring)
    person = np.where(mask[..., None], nearest(inner if inner.any() else mask), image)
    return (torch.tensor(nearest(~mask), dtype=torch.float32) / 255,
            torch.tensor(person, dtype=torch.float32) / 255)


def photo_eps2d(scale: float) -> float:
    """The rasteriser's screen-space blur (px², :data:`core.render.projection.EPS_2D` at the photo's
    resolution) in a crop of ``scale`` crop pixels per photo pixel. Every Gaussian is widened by this
    blur, more so the coarser the image: a 256² crop of a 500 px tall person with the full 0.3 px²
    fattens the avatar's thin outline Gaussians, and an outline matched there renders 1–2 px inside
    the person at the photo's size or larger (6 % of a real person's silhouette uncovered)."""
    return EPS_2D * scale**2


def _render(view: InputView, means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
            colours: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Image [S, S, 3] (over black) and alpha [S, S, 1] of posed Gaussians (means [N, 3], quats [N, 4],
    scales [N, 3] metres, opacities [N], colours [N, 3]) through the input view, as the photo's own
    pixels would show them (:func:`photo_eps2d`); differentiable."""
    image, alpha, _ = rasterize(means, quats, scales, opacities, colours, view.viewmat, view.K[None], view.size,
                                view.size, near_plane=0.05, eps2d=photo_eps2d(view.scale),
                                backgrounds=torch.zeros(1, 3))
    return image[0], alpha[0]


def splat_sums(view: InputView, cloud: GaussianCloud, values: torch.Tensor) -> torch.Tensor:
    """Σ over ``view``'s pixels of each posed Gaussian's blending weight × ``values`` [S, S, D]: [N, D]
    (with ones: how many pixels' worth of colour it shows, 0 when hidden or off-screen)."""
    colours = torch.zeros(len(cloud), values.shape[-1], requires_grad=True)
    with torch.enable_grad():
        image, _, _ = rasterize(cloud.means, cloud.quats, cloud.scales(), cloud.opacities(), colours, view.viewmat,
                                view.K[None], view.size, view.size, near_plane=0.05,
                                backgrounds=torch.zeros(1, values.shape[-1]))
        (image[0] * values).sum().backward()
    return colours.grad


def back_project(view: InputView, cloud: GaussianCloud, values: torch.Tensor, weights: torch.Tensor,
                 prior: torch.Tensor, strength: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Each posed Gaussian's colour [N, 3] as the average of ``values`` [S, S, 3] over the pixels it
    shows in ``view`` (blending weight × ``weights`` [S, S, 1]), drawn to ``prior`` [N, 3] with
    ``strength`` pixels' worth; and its shown weight [N]. Hidden Gaussians keep ``prior``."""
    sums = splat_sums(view, cloud, torch.cat([values * weights, weights], -1))
    shown = sums[:, 3]
    return (sums[:, :3] + strength * prior) / (shown[:, None] + strength), shown


def input_view_scores(avatar: Avatar, body: BodyModel, fit: BodyFit, rgb: np.ndarray, observation: PersonObservation,
                      size: int = 256) -> dict[str, float]:
    """How well the avatar, posed as fitted and seen through the fit's camera over the photo's own
    background (:func:`photo_layers`), reproduces the photo inside the person mask: PSNR (dB) and SSIM
    over the ``size``² person crop, and the IoU of its silhouette (alpha > 0.5) with the mask."""
    from core.metrics import mask_iou, ssim

    view = input_view(fit, rgb, observation, size)
    posed = avatar.posed(body, torch.tensor(fit.pose), torch.tensor(fit.root))
    with torch.no_grad():
        image, alpha = _render(view, posed.means, posed.quats, posed.scales(), posed.opacities(), posed.base_colors())
    image = image + (1 - alpha) * view.background
    mask = view.mask[..., 0]
    error = ((image - view.target).square().mean(-1) * mask).sum() / mask.sum().clamp_min(1)
    return {"psnr_db": float(-10 * torch.log10(error.clamp_min(1e-10))),
            "ssim": float(ssim(image, view.target, mask > 0.5)), "iou": mask_iou(alpha[..., 0].numpy(), mask.numpy())}


def refine_avatar(avatar: Avatar, body: BodyModel, fit: BodyFit, rgb: np.ndarray, observation: PersonObservation,
                  iterations: int = 10, size: int = 256, geometry: bool = True, learning_rate: float = 0.1,
                  prior: float = 0.02, mask_weight: float = 3.0, max_shift: float = 0.05, shift_prior: float = 0.05,
                  min_facing: float = 0.1, min_pixels: float = 0.02, outline_pixels: float = 1.0, carry: bool = True,
                  carve: float | None = 0.0, frame: PersonFrame | None = None,
                  progress: Progress | None = None, cancel: CancelToken | None = None) -> Avatar:
    """A copy of ``avatar`` that reproduces the photo ``rgb`` [H, W, 3] where it shows the person
    (``observation``'s mask), after ``iterations`` Adam steps at ``size``² pixels.

    Only Gaussians the photo shows change: facing the camera (cosine above ``min_facing``) and
    showing more than ``min_pixels`` pixels' worth of colour. They start from the photo's colours
    (:func:`back_project` of the person layer of :func:`photo_layers`, drawn to the network's with
    ``min_pixels``' worth); then Adam minimises an L1 photometric term between the photo and the
    avatar composited over the photo's own background, inside the mask but for its outline's
    :data:`COLOUR_RING` px (they blend in the background), with a pull ``prior`` towards the starting
    colours. With ``geometry`` they may also shift parallel to the photo's image plane (at most ``max_shift``
    metres per axis, kept small by ``shift_prior``; depth is unobservable), grow or shrink and
    become more opaque (never less: what the photo does not show must stay solid from other views;
    nor below :func:`core.recon.avatar_builder.solid_floor`: the body's spacing for what the photo
    shows, the wider one of a surface standing off the body for the rest), so the avatar covers the
    person's silhouette (loose clothes, hair) and not the background: an alpha-vs-coverage term (the
    soft mask) of weight ``mask_weight``. Gaussians that reach past the outline or to within
    ``outline_pixels`` of it (:func:`outline_margin`) move and shrink too (never grow), whichever way
    they face: the outline seen from behind is made of the same Gaussians as the photo's (a side seen
    edge-on), so pulling them in keeps the avatar from bloating when it turns, and the discs just
    behind the outline, as thick as :func:`core.recon.avatar_builder.solid_floor` keeps them, from
    fattening it by a pixel. The rest keep the network's geometry (carrying the seen Gaussians' shifts
    and growth to their partners behind lost 0.6 dB on real people seen from behind); with ``carry`` their colours
    take the network's plus the photo's corrections of the seen Gaussians around them, the
    photo's own colour where the network invented a material the photo does not show on that part,
    the torso's leaning to the colour of its sides, then their part's median colour around them (the
    network's fine detail there is invention; :mod:`core.recon.hidden_side`), otherwise the
    network's. With ``carve``, last, splayed fingers outside the photo's silhouette turn transparent
    (:func:`_refined_cloud`)."""
    if iterations <= 0:
        return avatar

    view = input_view(fit, rgb, observation, size, frame)
    target, mask = view.target, view.mask
    # the outline's own pixels blend the person with the background: colours are fitted inside them
    from scipy import ndimage

    inner = torch.from_numpy(ndimage.binary_erosion(mask[..., 0].numpy() > 0.5, iterations=COLOUR_RING))
    inner = inner[..., None].to(mask.dtype)
    cloud = avatar.cloud
    posed, rotation, seen, movable, edge_on, colours = _changeable(avatar, body, fit, view, min_facing, min_pixels,
                                                                   outline_pixels)
    initial = torch.where(seen, rgb_to_sh0(colours), cloud.sh[:, 0])
    sh0 = initial.clone().requires_grad_(True)
    shift = torch.zeros(len(cloud), 2, requires_grad=True)  # along the camera's x and y, in units of max_shift
    image_plane = view.viewmat[0, :2, :3]  # [2, 3] the camera's right and down axes in the world
    log_scales = cloud.log_scales.clone().requires_grad_(geometry)
    # what the photo shows may shrink to the body's spacing; the rest (seen edge-on or not at all) keeps
    # the wider floor of a surface standing off the body
    spacing = torch.where(seen[:, 0], sample_spacing(body, avatar.shape, len(cloud)),
                          avatar_spacing(body, avatar))
    floor = least_log_scales(spacing, len(cloud))
    opacity = cloud.opacity_logits.clone().requires_grad_(geometry)
    groups = [{"params": [sh0], "lr": learning_rate}]
    if geometry:
        groups += [{"params": [shift], "lr": 0.05}, {"params": [log_scales], "lr": 0.05},
                   {"params": [opacity], "lr": 0.1}]
    optimiser = torch.optim.Adam(groups)
    for step in range(iterations):
        report(progress, step / iterations, "Refining the avatar against the photo", cancel)
        means = posed.means + max_shift * torch.tanh(shift) @ image_plane if geometry else posed.means
        image, alpha = _render(view, means, posed.quats, log_scales.exp(), torch.sigmoid(opacity),
                               (0.5 + SH_C0 * sh0).clamp(0, 1))
        composite = image + (1 - alpha) * view.background  # the photo's edge pixels blend in its background
        photometric = ((composite - target).abs() * inner).sum() / inner.sum().clamp_min(1) / 3
        loss = photometric + prior * (sh0 - initial).square().mean()
        if geometry:  # beyond the photo's edges nothing is known: neither person nor background
            loss = loss + mask_weight * ((alpha - view.coverage).abs() * view.known).mean() \
                + shift_prior * torch.tanh(shift).square().mean()
        optimiser.zero_grad()
        loss.backward()
        sh0.grad.mul_(seen)
        if geometry:
            for tensor in (shift, log_scales):
                tensor.grad.mul_(movable)
            opacity.grad.mul_(seen[:, 0])
        optimiser.step()
        if geometry:
            with torch.no_grad():
                opacity.clamp_(min=cloud.opacity_logits)
                log_scales.clamp_(min=floor)  # shrunk to fit the photo's outline, but never into pinholes
                torch.where(seen, log_scales, log_scales.clamp(max=cloud.log_scales), out=log_scales)  # unseen: shrink
    report(progress, 1.0, "Avatar refined", cancel)
    with torch.no_grad():
        posed_offset = max_shift * torch.tanh(shift) @ image_plane if geometry else None
        refined = _refined_cloud(avatar, body, view, posed, rotation, seen[:, 0], edge_on, sh0.detach(),
                                 posed_offset, log_scales.detach(), opacity.detach(), carry, carve, size)
    return Avatar(refined, avatar.binding, avatar.body_model, avatar.shape)


def _changeable(avatar: Avatar, body: BodyModel, fit: BodyFit, view: InputView, min_facing: float, min_pixels: float,
                outline_pixels: float
                ) -> tuple[GaussianCloud, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """What refinement may change (see :func:`refine_avatar`): the avatar posed as fitted, its
    Gaussians' blended bone rotations [N, 3, 3], ``seen`` [N, 1] (their colour and size), ``movable``
    [N, 1] (their position and shrinking: seen, on the outline or within ``outline_pixels`` of it),
    ``edge_on`` [N] (on the outline but not seen: the photo shows them edge-on) and the photo's colours
    [N, 3] back-projected onto them."""
    with torch.no_grad():
        transforms = body.forward(torch.tensor(avatar.shape)[None], torch.tensor(fit.pose)[None],
                                  torch.tensor(fit.root)[None]).transforms[0]
        posed = skin_gaussians(avatar.cloud, avatar.binding, transforms)
        rotation = blend_transforms(avatar.binding.bone_indices, avatar.binding.bone_weights, transforms)[..., :3]
        # Adam would give the tiny gradients of the hidden side (seen through the front) and of splats
        # seen edge-on full-size steps and speckle them
        axes = quat_to_rotmat(posed.quats)  # [N, 3, 3], columns = the splat's axes
        normals = axes.gather(2, avatar.cloud.log_scales.argmin(1)[:, None, None].expand(-1, 3, 1))[..., 0]
        eye = torch.linalg.inv(view.viewmat[0])[:3, 3]
        towards = torch.nn.functional.normalize(eye - posed.means, dim=1)
        facing = (normals * towards).sum(1) > min_facing
        # Adam fine-tunes from there instead of dragging every colour the whole way
        colours, shown = back_project(view, posed, view.foreground, view.mask, posed.base_colors(), min_pixels)
    seen = (facing & (shown > min_pixels))[:, None]
    margin = outline_margin(view, posed)
    movable = (seen[:, 0] | (margin <= outline_pixels))[:, None]
    return posed, rotation, seen, movable, ~seen[:, 0] & (margin <= 0), colours


def _refined_cloud(avatar: Avatar, body: BodyModel, view: InputView, posed: GaussianCloud, rotation: torch.Tensor,
                   seen: torch.Tensor, edge_on: torch.Tensor, sh0: torch.Tensor, posed_offset: torch.Tensor | None,
                   log_scales: torch.Tensor, opacity: torch.Tensor, carry: bool, carve: float | None, size: int
                   ) -> GaussianCloud:
    """The avatar's rest-pose cloud with refinement's results: ``posed_offset`` [N, 3] (world shifts in
    the fitted pose, None without geometry) turned back into the rest pose, sizes, opacities, the
    colours ``sh0`` [N, 3] of the ``seen`` [N] Gaussians and, with ``carry``, their corrections
    carried to the hidden ones; those on the photo's outline (``edge_on`` [N]: the photo shows them
    edge-on) keep the carried colour even where the network invented their material. With
    ``carve``, every Gaussian of a hand whose centre lies outside the person mask by more than
    ``carve`` of the ``size`` px crop turns transparent (0: wherever the centre falls outside, half the
    footprint sticks out): fingers the fit splayed where the photo shows none
    are outside the person from every side, and they would stretch the avatar's outline (its box, by
    which views of it are aligned; 1 % of the crop left fingertips 9 px beyond a 510 px photo's hand).
    Elsewhere a Gaussian outside the mask means the fitted body is off (legs crossed where the photo
    shows a gap): carving it would open a hole seen from every other side, so it stays."""
    cloud = avatar.cloud
    parts = surface_parts(body, avatar.binding.triangles, avatar.binding.barycentric)
    if carry:
        network = cloud.base_colors()
        refined_colours = (0.5 + SH_C0 * sh0).clamp(0, 1)
        carried = carry_changes(cloud.means, parts, refined_colours - network, seen, network)
        colours = torch.where(seen[:, None], refined_colours, (network + carried).clamp(0, 1))
        invented = torch.where(edge_on, 0.0, invented_materials(parts, network, seen))
        colours = unseen_materials(cloud.means, parts, colours, seen, invented)
        colours = outer_layer_colours(cloud.means, parts, colours, seen, invented)
        colours = smoothed_hidden(cloud.means, parts, colours, seen)
        sh0 = torch.where(seen[:, None], sh0, rgb_to_sh0(colours))
    means = cloud.means
    if posed_offset is not None:
        means = cloud.means + torch.linalg.solve(rotation, posed_offset[..., None])[..., 0]
        if carve is not None:  # a hand outside the photo's silhouette is outside it from every side
            carved = on_parts(parts, CARVED_PARTS)
            outside = carved & (mask_depth(view, posed.means + posed_offset) < -carve * size)
            opacity = torch.where(outside, torch.full_like(opacity, CARVED_LOGIT), opacity)
    return GaussianCloud(means, cloud.quats, log_scales, opacity, torch.cat([sh0[:, None], cloud.sh[:, 1:]], 1))


def mask_depth(view: InputView, means: torch.Tensor) -> torch.Tensor:
    """How deep (pixels) inside ``view``'s person mask each posed centre [N, 3] projects: positive
    inside, negative outside (minus the distance to the mask); beyond the crop −size where the photo
    shows background there, and +size beyond the photo's edges (unknown: a half body's legs)."""
    from scipy import ndimage

    inside = view.mask[..., 0].numpy() > 0.5
    signed = ndimage.distance_transform_edt(inside) - ndimage.distance_transform_edt(~inside)
    signed[view.known[..., 0].numpy() < 0.5] = view.size
    camera = means @ view.viewmat[0, :3, :3].T + view.viewmat[0, :3, 3]
    pixels = camera[:, :2] / camera[:, 2:].clamp_min(1e-3) * view.K[[0, 1], [0, 1]] + view.K[:2, 2]
    ij = pixels.floor().long()
    within = ((ij >= 0) & (ij < view.size)).all(1) & (camera[:, 2] > 0)
    ij = ij.clamp(0, view.size - 1).numpy()
    depth = torch.from_numpy(signed[ij[:, 1], ij[:, 0]]).float()
    beyond = torch.where(view.in_photo(pixels), -float(view.size), float(view.size))
    return torch.where(within, depth, beyond)


def outline_margin(view: InputView, cloud: GaussianCloud) -> torch.Tensor:
    """How far (pixels) each posed Gaussian [N] of ``cloud`` stays inside the outline of ``view``'s
    person mask: its centre's :func:`mask_depth` less two of its largest standard deviations (in pixels
    at its depth); at most 0 where it reaches past the outline."""
    depth = (cloud.means @ view.viewmat[0, :3, :3].T + view.viewmat[0, :3, 3])[:, 2].clamp_min(1e-3)
    return mask_depth(view, cloud.means) - 2 * cloud.scales().max(1).values * view.K[0, 0] / depth
