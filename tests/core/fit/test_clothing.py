"""The clothing layer: offsets along the body's normals fitted to a mask that reaches past the body."""

import numpy as np
import pytest
import torch

from core.fit.clothing import ClothingOptions, clothed_vertices, fit_clothing, mesh_edges, offset_directions
from core.fit.overlay import body_mask
from core.fit.result import BodyFit
from core.fit.silhouette import SilhouetteTarget
from core.metrics import mask_iou


@pytest.fixture(scope="module")
def dressed(anny_body, synthetic_person):
    """The synthetic person's true body, its offset directions and a projection into its photo."""
    person = synthetic_person
    shape = torch.tensor(person.shape)
    with torch.no_grad():
        out = anny_body.forward(shape[None], torch.tensor(person.pose)[None], torch.tensor(person.root)[None])
    truth = BodyFit(body_model="anny", shape=person.shape, pose=person.pose, root=person.root, K=person.K,
                    image_size=person.rgb.shape[1::-1], viewmat=person.viewmat)
    view, K = torch.tensor(person.viewmat, dtype=torch.float32), torch.tensor(person.K, dtype=torch.float32)

    def project(points: torch.Tensor) -> torch.Tensor:
        camera = points @ view[:3, :3].T + view[:3, 3]
        return camera[:, :2] / camera[:, 2:] @ K[:2, :2].T + K[:2, 2]

    return out.vertices[0], offset_directions(anny_body, shape, out), truth, project


def test_offset_directions_are_the_posed_normals(anny_body, dressed):
    """Skinning is linear in the rest position: a rest offset along the normal poses into these directions."""
    vertices, directions, truth, _ = dressed
    shape, pose, root = (torch.tensor(v)[None] for v in (truth.shape, truth.pose, truth.root))
    rest = anny_body.rest(shape)
    lengths = directions.norm(dim=1)
    assert lengths.min() > 0.9 and lengths.max() < 1.001  # rotations, a little shorter where bones blend
    from core.body.surface import vertex_normals

    normals = torch.from_numpy(vertex_normals(rest.vertices[0].numpy(), anny_body.faces.numpy()))
    posed_normals = torch.from_numpy(vertex_normals(vertices.numpy(), anny_body.faces.numpy()))
    agree = (directions / lengths[:, None] * posed_normals).sum(1)
    assert float(agree.median()) > 0.99 and normals.shape == directions.shape


def test_a_garment_past_the_body_is_recovered(anny_body, dressed):
    vertices, directions, truth, project = dressed
    faces = anny_body.faces
    garment = np.full(len(vertices), 0.04, np.float32)  # 4 cm all round
    mask = body_mask(truth, clothed_vertices(vertices, directions, garment).numpy(), faces.numpy())
    bare_iou = mask_iou(body_mask(truth, vertices.numpy(), faces.numpy()), mask)
    offsets = fit_clothing(vertices, directions, faces, project, SilhouetteTarget(mask.astype(np.float32)))
    fitted_iou = mask_iou(body_mask(truth, clothed_vertices(vertices, directions, offsets).numpy(), faces.numpy()),
                          mask)
    assert bare_iou < 0.8 and fitted_iou > 0.93, (bare_iou, fitted_iou)
    assert offsets.min() >= 0 and offsets.max() <= ClothingOptions().max_offset


def test_no_garment_no_offsets_beyond_the_masks_resolution(anny_body, dressed):
    vertices, directions, truth, project = dressed
    faces = anny_body.faces
    mask = body_mask(truth, vertices.numpy(), faces.numpy())
    offsets = fit_clothing(vertices, directions, faces, project, SilhouetteTarget(mask.astype(np.float32)))
    depth = float(-(vertices[:, 2].mean()))  # the camera looks down −Z from the origin
    pixel = depth / truth.K[0, 0]  # metres per pixel at the body
    assert np.quantile(offsets, 0.99) < 2 * pixel and offsets.max() < 6 * pixel, (offsets.max() / pixel)


def test_mesh_edges_are_each_edge_once():
    faces = torch.tensor([[0, 1, 2], [2, 1, 3]])
    assert mesh_edges(faces).tolist() == [[0, 1], [0, 2], [1, 2], [1, 3], [2, 3]]


def test_offsets_must_match_the_body():
    with pytest.raises(ValueError, match="another body model"):
        clothed_vertices(torch.zeros(5, 3), torch.zeros(5, 3), np.zeros(4))
