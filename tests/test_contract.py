"""One contract every joint transform keeps, run for each kind (crop, blur, color and a plugin's).

In the manner of kornia's random-generator tests: the draw is a pure function of its uniforms, the
batched draw equals the scalar one row by row, the pixel parameters are a pure function of (slice,
size), and a transform used alone never touches torch's global generator.
"""

from __future__ import annotations

import dataclasses
import pickle

import pytest
import torch
from draws import close
from torchvision.transforms.v2 import functional as F

from jointaug_plugins import (
    JointColorJitter,
    JointGaussianBlur,
    JointRandomResizedCrop,
    JointSpec,
    JointViews,
    ScalarJointTransform,
    SliceDraw,
)


class JointSolarize(ScalarJointTransform):
    """A third party's joint augmentation: solarise above a jointly drawn threshold."""

    kind = "solarize"
    param = "threshold"
    range_name = "threshold"
    range_bounds = (0.0, 255.0)

    def apply(self, image, value):
        return F.solarize(image, threshold=value)


FACTORIES = {
    "crop": lambda: JointRandomResizedCrop(12, scale=(0.1, 0.9)),
    "blur": lambda: JointGaussianBlur(sigma=(0.2, 1.8), p=0.6),
    "color": lambda: JointColorJitter(0.4, 0.4, 0.2, 0.1),
    "solarize": lambda: JointSolarize((32.0, 224.0), p=0.7),
}


def _row(slice_: SliceDraw, i: int) -> SliceDraw:
    def pick(value):
        if isinstance(value, torch.Tensor):
            item = value[i].tolist()
            return tuple(item) if isinstance(item, list) else item
        return value

    return dataclasses.replace(slice_, **{f.name: pick(getattr(slice_, f.name)) for f in dataclasses.fields(slice_)})


@pytest.mark.parametrize("kind", sorted(FACTORIES))
class TestJointTransformContract:
    spec = JointSpec(-0.5)
    image = torch.randint(0, 256, (3, 30, 40), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))

    def _uniforms(self, n: int, seed: int) -> torch.Tensor:
        return torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)

    def test_the_draw_is_a_pure_function_of_its_uniforms(self, kind):
        t = FACTORIES[kind]()
        assert t.kind == kind and t.single_uniforms > 0 and t.pair_uniforms > 0
        u = self._uniforms(t.single_uniforms, 0).tolist()
        assert t.draw_single(u) == t.draw_single(list(u))
        assert t.draw_single(u) != t.draw_single(self._uniforms(t.single_uniforms, 1).tolist())
        u = self._uniforms(t.pair_uniforms, 2).tolist()
        first, second = t.draw_pair(FACTORIES[kind](), self.spec, u, pair=3)
        assert (first.pair, second.pair, first.joint, second.joint) == (3, 3, True, True)
        assert (first, second) == t.draw_pair(FACTORIES[kind](), self.spec, u, pair=3)
        assert t.draw_single(u[: t.single_uniforms], pair=1).joint is False

    def test_the_batched_draw_equals_the_scalar_draw_row_by_row(self, kind):
        t, partner = FACTORIES[kind](), FACTORIES[kind]()
        u = self._uniforms(64 * t.single_uniforms, 3).reshape(64, -1)
        batched = t.draw_single_batch(u, pair=0)
        assert all(close(_row(batched, i), t.draw_single(u[i].tolist(), pair=0)) for i in range(64))
        u = self._uniforms(64 * t.pair_uniforms, 4).reshape(64, -1)
        first, second = t.draw_pair_batch(partner, self.spec, u, pair=0)
        for i in range(64):
            a, b = t.draw_pair(partner, self.spec, u[i].tolist(), pair=0)
            assert close(_row(first, i), a) and close(_row(second, i), b)

    def test_pixel_parameters_are_a_pure_function_of_slice_and_size(self, kind):
        t = FACTORIES[kind]()
        slice_ = t.draw_single(self._uniforms(t.single_uniforms, 5).tolist())
        params = t.params_from_draw(slice_, (30, 40))
        assert params == t.params_from_draw(slice_, (30, 40))
        assert torch.equal(t.transform(self.image, params), t.transform(self.image, params))
        copy = pickle.loads(pickle.dumps(t))
        assert copy.params_from_draw(pickle.loads(pickle.dumps(slice_)), (30, 40)) == params

    def test_alone_it_draws_from_its_own_generator(self, kind):
        t = FACTORIES[kind]()
        torch.manual_seed(0)
        state = torch.get_rng_state()
        outputs = {bytes(t(self.image).flatten().numpy()) for _ in range(8)}
        assert torch.equal(state, torch.get_rng_state())
        assert len(outputs) > 1

    def test_in_a_coordinator_both_views_take_the_joint_draw(self, kind):
        views = JointViews([FACTORIES[kind](), FACTORIES[kind]()], **{"crop": None, kind: -0.5}, seed=0)
        for _ in range(5):
            _, records = views.apply(self.image, records=True)
            assert [(r.view, r.kind, r.joint, r.pair) for r in records] == [(0, kind, True, 0), (1, kind, True, 0)]
