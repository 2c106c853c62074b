"""The hidden side follows the seen one: the photo's corrections carried to what it does not show.

Refinement gives every Gaussian the photo shows the photo's colour; the rest keep the network's
guess. Where the network is biased (a garment darker or lighter than it predicted, a colour cast of
the photo's light) the hidden side would keep the bias and the avatar would change colour when it
turns. So the change refinement made — photo minus network, a smooth field over the body — is
carried to each hidden Gaussian from the seen Gaussians around its front/back partner (its
position mirrored through the depth centre of its body part: the back of the chest takes the
front's correction, the back of the head the face's), or, when no seen Gaussian lies there, from
the seen Gaussians around itself. With the network's colours given, "around" is measured in position
and colour together (:data:`METRES_PER_COLOUR`): a hidden Gaussian takes the correction of seen ones
the network painted alike, the same material. The back of the head, hair in the network's guess,
takes the correction of the hair the photo shows rather than the face's; the back of an open coat
takes the coat's, not the striped shirt's between its edges. The network's own structure stays: hair
on the back of the head, a print that is only on the front. The carried change is the per-channel
median over the nearest seen Gaussians (about 8 cm around at an avatar's density), so a print smaller
than that does not leak through; a larger one the network sees and predicts itself, which leaves
little to correct.

Colour alone can also mislead the carry: where the network paints a hidden Gaussian a colour the photo
shows nowhere on that body part (a pink blotch on the back of black trousers, white flecks on dark
shorts), no seen Gaussian is of its material and its invented colour would stay. A material counts as
shown when at least :data:`MATERIAL_MATCHES` seen Gaussians of the part were painted within
:data:`MATERIAL_NEAR` of it by the network, and as invented beyond :data:`MATERIAL_FAR`, blending in
between (:func:`invented_materials`). An invented one takes the photo's colour around its front/back
partner (:func:`unseen_materials`), on the torso the colour of its sides (below). The head keeps its own
rule: its back is hair, which the photo may show only as a fringe; so do the Gaussians on the photo's
outline, which it shows edge-on (:func:`core.recon.refine.refine_avatar` leaves them out: with them the
input view lost 0.1 dB). On 25 real people seen from behind this took the back's PSNR from 16.60 to
16.78 dB (the nearest seen colour deciding alone: 16.74; the 32nd nearest: 16.74, hair and shoes
worse; the head included: 16.76, hair ΔE 5.5 → 5.9; the partner's 96 nearest instead of 384: 16.77,
but a hand the photo shows in front of a thigh then paints the thigh's back).

The feet's hidden side is the shoe the photo shows (:data:`SHOWN_MATERIAL_PARTS`): every hidden Gaussian of a
foot takes the photo's colour around its partner as an invented material would. The network guesses shoes
poorly (a few pixels of its input), and the carried correction of a two-tone shoe (white with black laces)
lands on neither tone: a brown heel. On 25 real people seen from behind this took the shoes' colour error
(ΔE) from 10.6 to 9.4 (median 9.5 → 5.5; the mirrored photo's: 8.3, median 4.4) with the back's PSNR the
same (16.83 dB; the fits of the day before, refined again); a pool of a quarter of the foot's seen Gaussians
gave 8.3 (median 6.4). The heels come out grey, the median of the shoe's tones, where the truth may be white.

The torso's hidden side then leans towards the torso's outermost layer as the photo shows it
(:func:`outer_layer_colours`): its sides. The front's middle may show an inner layer (the shirt
between an open coat's edges) or a print, and the network's guess for the back may be another
garment altogether (long hair falling on the back of a woman with a bob, a jacket's hem lower than
the photo's), but what the photo shows at the torso's sides at a given height is what wraps around
it. On 25 real people seen from behind this took the back's PSNR from 16.46 to 16.60 dB; the sides'
colour alone (weight 1) gave 16.55 dB, and each side's own colour on its half 16.51 dB with a seam
down the middle of the back.

Last, the hidden side's fine detail goes (:func:`smoothed_hidden`): each hidden Gaussian takes the median colour
of the :data:`SMOOTHING` Gaussians of its part around it. What the network paints there finer than that is its
invention (a night sky of light flecks on a navy coat's back, mottling on a jacket, white flecks on black
trousers), and the broad colours are what the steps above carried. On the 25 real people seen from behind (fits
and network outputs fixed, refinement redone): back 16.83 → 16.88 dB, sides 15.47 → 15.55 dB, the input view
28.96 → 28.94 dB (its outline shows hidden Gaussians edge-on; leaving those out kept the input view and lost the
sides' gain: 15.48 dB); 16 and 48 neighbours gave 16.84 and 16.86 dB, 384 gave 16.89 with the input view at
28.89 dB.

Positions are the avatar's rest pose (metres, Y up, the person facing +Z, limbs in the frontal plane).
"""

from __future__ import annotations

import numpy as np
import torch

from core.body.parts import PART_INDEX, on_parts

#: Seen Gaussians whose corrections are pooled (a random subset: the field is smooth).
POOL = 4000
#: Neighbours whose median correction a hidden Gaussian takes.
NEIGHBOURS = 96
#: Farthest (metres) a neighbour may be from the partner's position for the partner to count.
REACH = 0.06
#: With the network's colours: metres that a unit of RGB difference ([0, 1] per channel) counts as.
METRES_PER_COLOUR = 0.25
#: Seen Gaussians of a part the network must have painted alike for a hidden one's material to count as shown.
MATERIAL_MATCHES = 8
#: RGB distance ([0, 1] per channel, Euclidean) within which a seen Gaussian's network colour is the same
#: material, and beyond which it is another; in between the hidden colour blends (:func:`invented_materials`).
MATERIAL_NEAR = 0.03
MATERIAL_FAR = 0.1
#: Seen Gaussians around the partner whose median colour an invented material takes (about 16 cm around at an
#: avatar's density: wide enough that a hand held in front of the part in the photo does not decide it).
MATERIAL_POOL = 4 * NEIGHBOURS
#: Parts whose hidden side is another material by design (the back of the head is hair, the front a face).
OWN_MATERIAL_PARTS = ("head",)
#: Parts whose hidden side is the material the photo shows (a shoe is one shoe all round): every hidden
#: Gaussian there counts as invented, whatever the network painted (:func:`invented_materials`).
SHOWN_MATERIAL_PARTS = ("left_foot", "right_foot")
#: Body parts whose hidden side leans towards the colour of their sides (:func:`outer_layer_colours`).
TORSO_PARTS = ("chest", "hips")
#: Share of the seen torso, per side and height, that counts as its side (the most lateral).
SIDE_SHARE = 0.3
#: Height window (metres, ±) within which the sides are ranked and their colours taken.
SIDE_BAND = 0.04
#: Weight of the sides' colour against the carried one on the torso's hidden side.
SIDE_WEIGHT = 0.5
#: Nearest Gaussians of the part (seen or not) whose median colour each hidden one finally takes
#: (:func:`smoothed_hidden`; about 9 cm around at an avatar's density).
SMOOTHING = 128


def partner_positions(positions: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
    """Front/back partners [N, 3] of rest-pose ``positions`` [N, 3] with body ``parts`` [N]: each
    mirrored in depth (z) through its part's mean depth."""
    count = int(parts.max()) + 1 if len(parts) else 0
    centre = torch.zeros(count, dtype=positions.dtype).index_add_(0, parts, positions[:, 2]) \
        / torch.bincount(parts, minlength=count).clamp_min(1)
    mirrored = positions.clone()
    mirrored[:, 2] = 2 * centre[parts] - positions[:, 2]
    return mirrored


def carry_changes(positions: torch.Tensor, parts: torch.Tensor, change: torch.Tensor, seen: torch.Tensor,
                  colours: torch.Tensor | None = None, seed: int = 0) -> torch.Tensor:
    """``change`` [N, D] where ``seen`` [N] (bool); elsewhere the median change of the seen Gaussians
    near the front/back partner (same part) or near the Gaussian itself (see the module docstring),
    zero on a part the photo does not show at all. ``positions`` [N, 3] rest pose, ``parts`` [N];
    ``colours`` [N, 3] (the network's, [0, 1]) make nearness count colour as well."""
    from scipy.spatial import cKDTree

    out = change.clone()
    hidden = torch.nonzero(~seen).flatten()
    seen_ids = torch.nonzero(seen).flatten()
    out[hidden] = 0.0
    if len(hidden) == 0 or len(seen_ids) == 0:
        return out
    generator = torch.Generator().manual_seed(seed)
    pool = seen_ids[torch.randperm(len(seen_ids), generator=generator)[:POOL]]
    pooled = change[pool].numpy()
    pool_parts = parts[pool].numpy()
    partners = partner_positions(positions, parts)[hidden].numpy()
    own = positions[hidden].numpy()
    space = positions.numpy()
    if colours is not None:  # colour as extra coordinates: alike is near
        paint = METRES_PER_COLOUR * colours.to(positions.dtype).numpy()
        space = np.concatenate([space, paint], 1)
        partners = np.concatenate([partners, paint[hidden.numpy()]], 1)
        own = np.concatenate([own, paint[hidden.numpy()]], 1)
    hidden_parts = parts[hidden].numpy()
    carried = np.zeros((len(hidden), change.shape[1]), np.float32)
    for part in np.unique(hidden_parts):
        rows = np.flatnonzero(hidden_parts == part)
        members = np.flatnonzero(pool_parts == part)
        if len(members) == 0:
            continue
        tree = cKDTree(space[pool[members].numpy()])
        k = min(NEIGHBOURS, len(members))
        distance, index = tree.query(partners[rows], k=k)
        _, near_own = tree.query(own[rows], k=k)
        use_own = (distance.reshape(len(rows), -1)[:, 0] > REACH)[:, None]
        index = np.where(use_own, near_own.reshape(len(rows), -1), index.reshape(len(rows), -1))
        carried[rows] = np.median(pooled[members][index], axis=1)
    out[hidden] = torch.from_numpy(carried).to(change.dtype)
    return out


def invented_materials(parts: torch.Tensor, network: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
    """How far [N] (0–1) each hidden Gaussian's ``network`` colour [N, 3] ([0, 1]) is a material the
    photo does not show on its part (``parts`` [N]; ``seen`` [N] bool): 1 when the
    :data:`MATERIAL_MATCHES`-th nearest network colour of the part's seen Gaussians lies
    :data:`MATERIAL_FAR` away or more, 0 within :data:`MATERIAL_NEAR`, linear between; 1 on
    :data:`SHOWN_MATERIAL_PARTS`. 0 where seen, on :data:`OWN_MATERIAL_PARTS` and on parts with fewer seen
    Gaussians than matches."""
    from scipy.spatial import cKDTree

    seen_np, parts_np = seen.numpy(), parts.numpy()
    paint = network.double().numpy()
    weight = np.zeros(len(parts_np))
    kept = [PART_INDEX[p] for p in OWN_MATERIAL_PARTS]
    shown_material = [PART_INDEX[p] for p in SHOWN_MATERIAL_PARTS]
    for part in np.unique(parts_np[~seen_np]):
        shown = np.flatnonzero(seen_np & (parts_np == part))
        if part in kept or len(shown) < MATERIAL_MATCHES:
            continue
        hidden = np.flatnonzero(~seen_np & (parts_np == part))
        if part in shown_material:
            weight[hidden] = 1.0
            continue
        distance, _ = cKDTree(paint[shown]).query(paint[hidden], k=[MATERIAL_MATCHES])
        weight[hidden] = np.clip((distance[:, 0] - MATERIAL_NEAR) / (MATERIAL_FAR - MATERIAL_NEAR), 0.0, 1.0)
    return torch.from_numpy(weight)


def unseen_materials(positions: torch.Tensor, parts: torch.Tensor, colours: torch.Tensor, seen: torch.Tensor,
                     invented: torch.Tensor) -> torch.Tensor:
    """``colours`` [N, 3] ([0, 1]: the photo's where ``seen`` [N], the carried guess elsewhere) with
    each hidden Gaussian moved ``invented`` [N] (:func:`invented_materials`) of the way to the median
    colour of the :data:`MATERIAL_POOL` seen Gaussians of its part nearest its front/back partner; the
    torso's are left to :func:`outer_layer_colours`, which takes them to the colour of its sides, and
    a part the photo does not show keeps them. ``positions`` [N, 3] rest pose, ``parts`` [N]."""
    moved = ((invented > 0) & ~on_parts(parts, TORSO_PARTS)).numpy()
    seen_np, parts_np = seen.numpy(), parts.numpy()
    partners = partner_positions(positions, parts).numpy()
    space, colours_np = positions.numpy(), colours.numpy()
    out = colours.clone()
    for part in np.unique(parts_np[moved]):
        shown = np.flatnonzero(seen_np & (parts_np == part))
        if len(shown) == 0:  # nothing of the part to take: as carried
            continue
        hidden = np.flatnonzero(moved & (parts_np == part))
        around = torch.from_numpy(_nearest_median(space[shown], colours_np[shown], partners[hidden], MATERIAL_POOL))
        rows = torch.from_numpy(hidden)
        weight = invented[rows].to(colours.dtype)[:, None]
        out[rows] = (1 - weight) * colours[rows] + weight * around.to(colours.dtype)
    return out


def torso_sides(positions: torch.Tensor, candidates: np.ndarray, centre: float) -> np.ndarray:
    """The ``candidates`` (indices into rest-pose ``positions`` [N, 3]) among the most lateral
    :data:`SIDE_SHARE` of their side (left or right of ``centre``, metres along x) within
    ±:data:`SIDE_BAND` of their height, ranked in 1 cm steps of height."""
    xyz = positions[candidates].numpy()
    offset = xyz[:, 0] - centre
    keep = np.zeros(len(candidates), bool)
    step = 0.01
    for side in (offset < 0, offset >= 0):
        heights, lateral = xyz[side, 1], np.abs(offset[side])
        if len(heights) == 0:
            continue
        bins = np.floor(heights / step).astype(int)
        threshold = np.empty(bins.max() - bins.min() + 1)
        for b in range(bins.min(), bins.max() + 1):
            window = np.abs(heights - (b + 0.5) * step) <= SIDE_BAND
            threshold[b - bins.min()] = np.quantile(lateral[window], 1 - SIDE_SHARE) if window.any() else np.inf
        keep[np.flatnonzero(side)] = lateral >= threshold[bins - bins.min()]
    return candidates[keep]


def outer_layer_colours(positions: torch.Tensor, parts: torch.Tensor, colours: torch.Tensor, seen: torch.Tensor,
                        invented: torch.Tensor | None = None) -> torch.Tensor:
    """``colours`` [N, 3] ([0, 1]: the photo's where ``seen`` [N], the carried guess elsewhere) with
    the hidden Gaussians of :data:`TORSO_PARTS` moved :data:`SIDE_WEIGHT` of the way to the median
    colour of the :data:`NEIGHBOURS` seen torso sides (:func:`torso_sides`) nearest in height, when
    one lies within :data:`SIDE_BAND` (see the module docstring); with ``invented`` [N]
    (:func:`invented_materials`) that much more of the rest of the way. ``positions`` [N, 3] rest
    pose, ``parts`` [N]."""
    from scipy.spatial import cKDTree

    torso = on_parts(parts, TORSO_PARTS).numpy()
    seen_np = seen.numpy()
    hidden = np.flatnonzero(torso & ~seen_np)
    shown = np.flatnonzero(torso & seen_np)
    if len(hidden) == 0 or len(shown) < NEIGHBOURS:
        return colours
    centre = float(np.median(positions[torso, 0].numpy()))
    sides = torso_sides(positions, shown, centre)
    heights = positions[:, 1:2].numpy()
    distance, index = cKDTree(heights[sides]).query(heights[hidden], k=min(NEIGHBOURS, len(sides)))
    distance, index = distance.reshape(len(hidden), -1), index.reshape(len(hidden), -1)
    close = distance[:, 0] <= SIDE_BAND
    side_colours = torch.from_numpy(np.median(colours.numpy()[sides][index[close]], axis=1)).to(colours.dtype)
    near = torch.from_numpy(hidden[close])
    weight = torch.full((len(near), 1), SIDE_WEIGHT, dtype=colours.dtype)
    if invented is not None:
        weight = weight + (1 - SIDE_WEIGHT) * invented[near].to(colours.dtype)[:, None]
    out = colours.clone()
    out[near] = (1 - weight) * colours[near] + weight * side_colours
    return out


def smoothed_hidden(positions: torch.Tensor, parts: torch.Tensor, colours: torch.Tensor, seen: torch.Tensor
                    ) -> torch.Tensor:
    """``colours`` [N, 3] with each hidden Gaussian (not ``seen`` [N]) given the per-channel median colour of
    the :data:`SMOOTHING` Gaussians of its part (``parts`` [N]) nearest it in the rest pose (``positions``
    [N, 3]), itself and seen ones included (see the module docstring)."""
    seen_np, parts_np = seen.reshape(-1).numpy(), parts.numpy()
    space, colours_np = positions.numpy(), colours.numpy()
    out = colours.clone()
    for part in np.unique(parts_np[~seen_np]):
        members = np.flatnonzero(parts_np == part)
        hidden = np.flatnonzero(~seen_np & (parts_np == part))
        median = _nearest_median(space[members], colours_np[members], space[hidden], SMOOTHING)
        out[torch.from_numpy(hidden)] = torch.from_numpy(median).to(colours.dtype)
    return out


def _nearest_median(points: np.ndarray, values: np.ndarray, queries: np.ndarray, count: int) -> np.ndarray:
    """The per-channel median [Q, C] of ``values`` [P, C] at the ``count`` ``points`` [P, 3] nearest each of the
    ``queries`` [Q, 3] (all of them when there are fewer)."""
    from scipy.spatial import cKDTree

    _, index = cKDTree(points).query(queries, k=min(count, len(points)))
    return np.median(values[index.reshape(len(queries), -1)], axis=1)
