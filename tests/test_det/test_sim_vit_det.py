# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch
from mmdet.registry import MODELS

from mmsim.det import SIMViTDet
from mmsim.det.layers import resize_pos_embed_grid

TINY_ARCH = dict(
    embed_dims=32, num_layers=3, num_heads=2, feedforward_channels=64)


def tiny_backbone(**kwargs):
    cfg = dict(
        arch=TINY_ARCH,
        img_size=128,
        window_size=4,
        global_attn_indexes=(2, ),
        drop_path_rate=0.1)
    cfg.update(kwargs)
    model = SIMViTDet(**cfg)
    model.init_weights()
    return model


def test_registered_in_mmdet():
    assert MODELS.get('SIMViTDet') is SIMViTDet


@pytest.mark.parametrize('size', [(128, 128), (96, 160), (64, 48)])
def test_forward_shapes(size):
    model = tiny_backbone().eval()
    out = model(torch.rand(2, 3, *size))
    assert isinstance(out, tuple) and len(out) == 1
    assert out[0].shape == (2, 32, size[0] // 16, size[1] // 16)


def test_arch_and_attention_layout():
    model = SIMViTDet(arch='b')
    assert model.embed_dims == 768 and len(model.layers) == 12
    assert model.global_attn_indexes == (2, 5, 8, 11)
    windows = [layer.window_size for layer in model.layers]
    assert windows == [0 if i in (2, 5, 8, 11) else 14 for i in range(12)]
    # global blocks: tables for the 64 x 64 grid of a 1024 input
    assert model.layers[2].attn.rel_pos_h.shape == (127, 64)
    assert model.layers[0].attn.rel_pos_h.shape == (27, 64)
    assert model.pos_embed.shape == (1, 197, 768)


def test_backward_reaches_every_parameter():
    model = tiny_backbone().train()
    model(torch.rand(1, 3, 96, 112))[0].sum().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name


def test_gradient_checkpointing_matches():
    torch.manual_seed(0)
    plain = tiny_backbone(drop_path_rate=0.).train()
    ckpt = tiny_backbone(drop_path_rate=0., with_cp=True).train()
    ckpt.load_state_dict(plain.state_dict())
    x = torch.rand(1, 3, 64, 64)
    out_plain, out_ckpt = plain(x)[0], ckpt(x)[0]
    torch.testing.assert_close(out_plain, out_ckpt)
    out_plain.square().sum().backward()
    out_ckpt.square().sum().backward()
    for (name, a), b in zip(plain.named_parameters(), ckpt.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


def test_keys_match_sim_vit_by_prefix():
    from mmsim.models import SIMViT
    sim = SIMViT(arch=TINY_ARCH, img_size=224)
    det = tiny_backbone()
    sim_keys = set(sim.state_dict()) - {'cls_token'}
    det_keys = {
        k
        for k in det.state_dict() if not k.endswith(('rel_pos_h', 'rel_pos_w'))
    }
    assert det_keys == sim_keys
    for key, tensor in sim.state_dict().items():
        if key in det_keys:
            assert det.state_dict()[key].shape == tensor.shape, key


def test_pos_embed_interpolated_to_input_grid():
    model = tiny_backbone().eval()
    grid = model.pos_embed_at((6, 9))
    expected = resize_pos_embed_grid(model.pos_embed[:, 1:], (6, 9))
    assert grid.shape == (1, 6, 9, 32)
    torch.testing.assert_close(grid, expected)
    # the 14 x 14 grid itself is used unchanged
    assert torch.equal(
        model.pos_embed_at((14, 14)).flatten(1, 2), model.pos_embed[:, 1:])


def test_loading_another_grid_resizes_pos_embed():
    model = tiny_backbone()
    state = model.state_dict()
    small = torch.randn(1, 1 + 36, 32)  # a 6 x 6 pre-training grid
    state['pos_embed'] = small
    model.load_state_dict(state)
    assert model.pos_embed.shape == (1, 197, 32)
    assert torch.equal(model.pos_embed[:, 0], small[:, 0])
    torch.testing.assert_close(
        model.pos_embed[:, 1:],
        resize_pos_embed_grid(small[:, 1:], (14, 14)).flatten(1, 2))


def test_construction_errors():
    with pytest.raises(ValueError, match='outside'):
        SIMViTDet(arch=TINY_ARCH, global_attn_indexes=(3, ))
    with pytest.raises(ValueError, match='multiple of patch_size'):
        SIMViTDet(arch=TINY_ARCH, img_size=100)
    with pytest.raises(ValueError, match='unknown arch'):
        SIMViTDet(arch='xl')
    with pytest.raises(ValueError, match='lacks'):
        SIMViTDet(arch=dict(embed_dims=32))
