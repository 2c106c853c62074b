import dataclasses
import math

import numpy as np
import pytest
import torch
from plyfile import PlyData

from core.avatar.binding import DISC
from core.body.parts import PART_INDEX
from core.io.ply import write_ply
from core.recon.avatar_builder import MIN_OPACITY, SOLID_DISC, SOLID_THICKNESS, build_avatar, surface_layout
from core.recon.model import Prediction
from core.recon.query import query_points


@pytest.fixture(scope="module")
def query(anny_body):
    return query_points(anny_body, count=500, anchors=16)


def _prediction(query, colour_of_part) -> Prediction:
    count = len(query.triangles)
    colour = torch.tensor([colour_of_part(int(p)) for p in query.parts], dtype=torch.float32)[None]
    return Prediction(colour=colour, offset=torch.full((1, count), 0.01), log_scale=torch.zeros(1, count, 3),
                      rotation=torch.tensor([1.0, 0, 0, 0]).expand(1, count, 4), opacity_logit=torch.zeros(1, count))


def test_avatar_carries_the_prediction_and_poses(tmp_path, anny_body, query):
    def red_head(part: int) -> tuple[float, float, float]:
        return (1.0, 0.0, 0.0) if part == PART_INDEX["head"] else (0.0, 0.0, 1.0)

    shape = np.array([0.3, 0.6, 0.5, 0.7, 0.4, 0.5], np.float32)
    avatar = build_avatar(anny_body, query, shape, _prediction(query, red_head), count=5000)
    canonical = avatar.canonical(anny_body)
    colours = canonical.base_colors()
    red = colours[:, 0] > 0.9
    assert 0.03 < float(red.float().mean()) < 0.3
    assert float(canonical.means[red, 1].mean()) > float(canonical.means[~red, 1].mean()) + 0.4  # red on top
    zero = avatar.posed(anny_body, torch.zeros(55, 3))
    torch.testing.assert_close(zero.means, canonical.means)
    waving = torch.zeros(55, 3)
    waving[16] = torch.tensor([0.0, 0.0, 1.2])  # left shoulder up
    raised = avatar.posed(anny_body, waving, torch.tensor([0.0, 0.0, -3.0]))
    assert float(raised.means[:, 2].mean()) == pytest.approx(float(canonical.means[:, 2].mean()) - 3.0, abs=0.05)
    write_ply(tmp_path / "avatar.ply", canonical)
    vertex = PlyData.read(str(tmp_path / "avatar.ply"))["vertex"]
    assert vertex.count == 5000 and {"f_dc_0", "opacity", "rot_0", "scale_0"} <= set(vertex.data.dtype.names)
    with pytest.raises(ValueError, match="bound to the anny body"):
        avatar.posed(type("Other", (), {"name": "smplx"})(), torch.zeros(55, 3))


def test_clothing_layer_stands_the_gaussians_off_where_it_is_thicker(anny_body, query):
    """Each Gaussian stands off the body by the larger of the network's offset (1 cm here) and the fit's
    clothing layer: 5 cm on the legs, nothing elsewhere."""
    from core.body.parts import vertex_parts

    shape = np.full(6, 0.5, np.float32)
    prediction = _prediction(query, lambda p: (0.5, 0.5, 0.5))
    bare = build_avatar(anny_body, query, shape, prediction, count=4000)
    leg_parts = [PART_INDEX[name] for name in PART_INDEX if name.endswith(("thigh", "shin"))]
    legs = np.isin(vertex_parts(anny_body).numpy(), leg_parts)
    layer = np.where(legs, 0.05, 0.0).astype(np.float32)
    dressed = build_avatar(anny_body, query, shape, prediction, count=4000, clothing=layer)
    shift = (dressed.cloud.means - bare.cloud.means).norm(dim=1)
    on_legs = torch.from_numpy(legs[anny_body.faces[bare.binding.triangles].numpy()].all(1))
    assert 0.1 < float(on_legs.float().mean()) < 0.5
    assert torch.allclose(shift[on_legs], torch.full_like(shift[on_legs], 0.04), atol=1e-4)  # 5 cm − the 1 cm
    assert float(shift[~on_legs].median()) < 1e-6  # where the layer is thinner, the network's offset stays
    with pytest.raises(ValueError, match="another body model"):
        build_avatar(anny_body, query, shape, prediction, count=4000, clothing=layer[:100])


def test_surface_layout_is_cached_per_query(anny_body, query):
    first = surface_layout(anny_body, query, 3000)
    assert surface_layout(anny_body, query, 3000) is first
    triangles, barycentric, nearest = first
    assert triangles.shape == (3000,) and int(nearest.max()) < len(query.triangles)


def test_bundle_round_trip_and_bad_files(tmp_path, anny_body, query):
    import json
    import zipfile

    from core.fit.result import BodyFit
    from core.persist.bundle import BundleError, load_bundle, save_bundle

    shape = np.full(6, 0.5, np.float32)
    avatar = build_avatar(anny_body, query, shape, _prediction(query, lambda p: (0.2, 0.5, 0.8)), count=2000)
    fit = BodyFit(body_model="anny", shape=shape, pose=np.zeros((55, 3)), root=[0, 0, -3], K=np.eye(3),
                  image_size=(64, 80))
    thumb = np.random.default_rng(0).integers(0, 255, (80, 64, 3), dtype=np.uint8)
    path = save_bundle(tmp_path / "person.avatar", avatar, fit, thumb)
    again = load_bundle(path)
    for field in ("means", "quats", "log_scales", "opacity_logits", "sh"):
        assert torch.equal(getattr(again.avatar.cloud, field), getattr(avatar.cloud, field)), field
    for field in ("triangles", "bone_indices", "bone_weights", "barycentric"):
        assert torch.equal(getattr(again.avatar.binding, field), getattr(avatar.binding, field)), field
    assert again.avatar.binding.bone_parents == avatar.binding.bone_parents
    assert np.array_equal(again.avatar.shape, shape) and again.fit.image_size == (64, 80)
    assert np.array_equal(again.thumbnail, thumb)
    posed = again.avatar.posed(anny_body, torch.zeros(55, 3))
    torch.testing.assert_close(posed.means, avatar.canonical(anny_body).means)

    def rewrite(name, **replace):
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp_path / name, "w") as target:
            for item in source.infolist():
                if item.filename not in replace or replace[item.filename] is not None:
                    target.writestr(item, replace.get(item.filename, source.read(item.filename)))
        return tmp_path / name

    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
    cases = {
        "missing.avatar": ("does not exist", tmp_path / "nothing.avatar"),
        "text.avatar": ("not an Avatarium avatar bundle", tmp_path / "text.avatar"),
        "noply.avatar": ("lacks gaussians.ply", rewrite("noply.avatar", **{"gaussians.ply": None})),
        "future.avatar": ("newer than this build", rewrite("future.avatar", **{"manifest.json": json.dumps(
            {**manifest, "version": 9})})),
        "count.avatar": ("promises 5 Gaussians", rewrite("count.avatar", **{"manifest.json": json.dumps(
            {**manifest, "gaussians": 5})})),
        "ply.avatar": ("gaussians.ply", rewrite("ply.avatar", **{"gaussians.ply": b"ply\nformat nonsense"})),
        "fit.avatar": ("fit.json", rewrite("fit.avatar", **{"fit.json": b'{"format": "x"}'})),
    }
    (tmp_path / "text.avatar").write_text("hello")
    for message, target in cases.values():
        with pytest.raises(BundleError, match=message):
            load_bundle(target)
    with pytest.raises(BundleError, match="limit"):
        load_bundle(path, max_bytes=1000)


def test_avatar_takes_the_networks_gaussian_shapes(anny_body, query):
    """Scale multipliers, surface-frame rotation and opacity of each query point reach its Gaussians."""
    import math

    from core.rotations import quat_to_rotmat

    shape = np.full(6, 0.5, np.float32)
    plain = _prediction(query, lambda _: (0.5, 0.5, 0.5))
    plain = dataclasses.replace(plain, offset=torch.zeros_like(plain.offset))  # on the body: one floor
    base = build_avatar(anny_body, query, shape, plain, count=3000).cloud
    count = len(query.triangles)
    quarter = torch.tensor([math.sqrt(0.5), 0.0, 0.0, math.sqrt(0.5)])  # 90° about the surface normal
    wide = math.log(1.5)  # discs above the least size the avatar keeps (SOLID_DISC, SOLID_THICKNESS)
    thick = math.log(1.2 * SOLID_THICKNESS / DISC[2])
    shaped = Prediction(colour=plain.colour, offset=plain.offset,
                        log_scale=torch.tensor([wide + math.log(2.0), wide, thick]).expand(1, count, 3),
                        rotation=quarter.expand(1, count, 4), opacity_logit=torch.full((1, count), 3.0))
    cloud = build_avatar(anny_body, query, shape, shaped, count=3000).cloud
    floor = torch.log(torch.tensor([SOLID_DISC, SOLID_DISC, SOLID_THICKNESS]) / torch.tensor(DISC))
    torch.testing.assert_close(cloud.log_scales - base.log_scales,
                               (torch.tensor([wide + math.log(2.0), wide, thick]) - floor).expand(3000, 3), atol=1e-5,
                               rtol=0)
    torch.testing.assert_close(cloud.opacity_logits, torch.full((3000,), 3.0))
    before, after = quat_to_rotmat(base.quats), quat_to_rotmat(cloud.quats)
    torch.testing.assert_close(after[..., 2], before[..., 2], atol=1e-5, rtol=0)  # the normal stays
    torch.testing.assert_close(after[..., 0], before[..., 1], atol=1e-5, rtol=0)  # the tangent turns


def test_the_network_cannot_thin_the_surface_into_pinholes(anny_body, query):
    """Discs shrunk or faded by the network are held at the surface disc's size and 0.9 opacity, so
    neighbours overlap at any zoom, and at SOLID_THICKNESS spacings across, so the surface seen edge-on
    (an outline from any other side) stays solid; what is above the floor is the network's."""
    import math

    shape = np.full(6, 0.5, np.float32)
    plain = _prediction(query, lambda _: (0.5, 0.5, 0.5))
    plain = dataclasses.replace(plain, offset=torch.zeros_like(plain.offset))  # on the body: one floor
    base = build_avatar(anny_body, query, shape, plain, count=3000).cloud
    count = len(query.triangles)
    thin = Prediction(colour=plain.colour, offset=plain.offset,
                      log_scale=torch.tensor([-1.0, 0.5, -1.0]).expand(1, count, 3),
                      rotation=plain.rotation, opacity_logit=torch.full((1, count), -2.0))
    cloud = build_avatar(anny_body, query, shape, thin, count=3000).cloud
    above = 0.5 - math.log(SOLID_DISC / DISC[0])  # a network disc of 0.6 · e^0.5 spacings, above the floor
    torch.testing.assert_close(cloud.log_scales - base.log_scales,
                               torch.tensor([0.0, above, 0.0]).expand(3000, 3), atol=1e-5, rtol=0)
    across = cloud.scales()[:, 2] / cloud.scales()[:, 0]  # on the body the floor is SOLID_DISC in the plane
    torch.testing.assert_close(across, torch.full((3000,), SOLID_THICKNESS / SOLID_DISC), atol=1e-5, rtol=0)
    torch.testing.assert_close(cloud.opacities(), torch.full((3000,), MIN_OPACITY))
    torch.testing.assert_close(base.opacities(), torch.full((3000,), MIN_OPACITY))  # logit 0: 0.5, raised


def test_gaussians_standing_off_a_thin_limb_get_a_wider_floor():
    """A coat 4 cm off a 4 cm-radius arm is a tube twice as wide: its Gaussians lie farther apart around
    it (not along it), and the floor that keeps the surface closed grows with them; on a flat surface
    standing off changes nothing."""
    from core.body.surface import MAX_SPREAD
    from core.recon.avatar_builder import local_spacing, solid_floor

    generator = torch.Generator().manual_seed(0)
    angle, height = 2 * math.pi * torch.rand(4000, generator=generator), 0.4 * torch.rand(4000, generator=generator)
    outward = torch.stack([torch.cos(angle), torch.zeros(4000), torch.sin(angle)], 1)
    arm = 0.04 * outward + torch.stack([torch.zeros(4000), height, torch.zeros(4000)], 1)
    spread = local_spacing(arm, arm + 0.04 * outward, 0.01) / 0.01
    assert 1.3 < float(spread.median()) < 2.0 and float(spread.max()) <= MAX_SPREAD
    torch.testing.assert_close(local_spacing(arm, arm, 0.01), torch.full((4000,), 0.01, dtype=torch.float32))
    plane = torch.stack([torch.rand(4000, generator=generator), torch.rand(4000, generator=generator),
                         torch.zeros(4000)], 1)
    lifted = local_spacing(plane, plane + torch.tensor([0.0, 0.0, 0.05]), 0.01)
    torch.testing.assert_close(lifted, torch.full((4000,), 0.01), atol=1e-6, rtol=0)
    floors, _ = solid_floor(torch.full((4000, 3), -10.0), torch.zeros(4000), local_spacing(arm, arm + 0.04 * outward,
                                                                                          0.01))
    torch.testing.assert_close(floors.exp(), 0.01 * spread[:, None] * torch.tensor([SOLID_DISC, SOLID_DISC,
                                                                                     SOLID_THICKNESS]))


def test_the_surface_seen_edge_on_keeps_the_outline_solid_at_the_viewers_size(anny_body, query, monkeypatch):
    """From every side but the photo's, the avatar's outline is its surface seen edge-on, as many discs
    deep as they are thick: at the network's own 0.1 spacings across the outline renders faint at 1024²
    (0.11 % of the silhouette's interior below 0.9 alpha, 4 views around the body), at SOLID_THICKNESS
    half as much."""
    from core.evaluation.holes import hole_scores
    from core.recon import avatar_builder

    shape = np.full(6, 0.5, np.float32)
    plain = _prediction(query, lambda _: (0.5, 0.5, 0.5))
    with torch.no_grad():
        vertices = anny_body.rest(torch.tensor(shape)[None]).vertices[0].numpy()

    def faint(thickness: float) -> float:
        monkeypatch.setattr(avatar_builder, "SOLID_THICKNESS", thickness)
        cloud = build_avatar(anny_body, query, shape, plain, count=20000).cloud
        return hole_scores(cloud, vertices, anny_body.faces.numpy(), sizes=(1024,), views=4)["1024"]["alpha_mean"]

    assert faint(SOLID_THICKNESS) < 0.0008 < faint(DISC[2])
