# Copyright (c) mmsim contributors. All rights reserved.
"""configs/mmpretrain, in the mmpretrain 1.2 environment: every config
parses; the ImageNet pre-training recipes build SIM, run their pipeline
and state their iterations right; they and the evaluation configs equal
their mmselfsup / mmcls twins in everything but the hosts' class names;
the evaluation models build, the linear probe's feature is the spec's and
the fine-tune's layer decay is the spec's rule."""
import glob
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import Compose
from mmengine.optim import build_optim_wrapper
from PIL import Image

from mmsim.hosts import host
from mmsim.models import SIM
from mmsim.models.necks import LinearProbeNeck
from tests import test_config_headers as headers
from tests._host import HOST_NAME, QUICKSTART_CONFIGS, REPO
from tests.test_hosts.test_across_hosts import PYTHONS, probe, unscoped

if HOST_NAME != 'mmpretrain':
    pytest.skip(
        'configs/mmpretrain needs mmpretrain: MMSIM_HOST=mmpretrain '
        '.venv-mmpretrain/bin/python -m pytest '
        'tests/test_hosts/test_mmpretrain_configs.py',
        allow_module_level=True)

from mmpretrain import registry  # noqa: E402
from mmpretrain.datasets import ImageNet  # noqa: E402
from mmpretrain.engine.optimizers import (  # noqa: E402
    LARS, LearningRateDecayOptimWrapperConstructor)
from mmpretrain.models.backbones import VisionTransformer  # noqa: E402
from mmpretrain.models.utils import SelfSupDataPreprocessor  # noqa: E402

MMPRETRAIN_CONFIGS = sorted(
    glob.glob(
        osp.join(REPO, 'configs', 'mmpretrain', '**', '*.py'), recursive=True))
SIM_DIR = osp.join(REPO, 'configs', 'mmpretrain', 'sim')
#: The ImageNet pre-training recipes; each has a twin of the same name in
#: configs/sim/ (the quick start's twin: test_across_hosts.py).
PRETRAINING = [
    'sim_vit-base-p16_16xb256-amp-coslr-1600e_in1k.py',
    'sim_vit-base-p16_16xb256-amp-coslr-400e_in1k.py',
    'sim-global-dense_vit-base-p16_16xb256-amp-coslr-400e_in1k.py',
    'sim_vit-large-p16_16xb256-amp-coslr-1600e_in1k.py',
]
CLS = osp.join('configs', 'benchmarks', 'classification', 'imagenet')
#: The evaluation configs (mmpretrain's names) -> their mmcls twins.
EVALUATION = {
    'vit-base-p16_8xb2048-linear-coslr-90e_in1k.py':
    osp.join(CLS, 'vit-base-p16_linear-8xb2048-coslr-90e_in1k.py'),
    'vit-base-p16_8xb128-coslr-100e_in1k.py':
    osp.join(CLS, 'vit-base-p16_ft-8xb128-coslr-100e_in1k.py'),
}
LINEAR, FINE_TUNE = (
    osp.join(SIM_DIR, 'benchmarks', name) for name in EVALUATION)
#: mmpretrain config -> its twin of the other host.
TWINS = {
    **{
        osp.join(SIM_DIR, name): osp.join(REPO, 'configs', 'sim', name)
        for name in PRETRAINING
    },
    **{
        osp.join(SIM_DIR, 'benchmarks', name): osp.join(REPO, twin)
        for name, twin in EVALUATION.items()
    }
}


def rel(path: str) -> str:
    return osp.relpath(path, REPO)


def is_base(path: str) -> bool:
    return '_base_' in rel(path).split(osp.sep)


def no_pretrained(cfg: Config) -> Config:
    """``cfg`` with the backbone's empty ``Pretrained`` init taken out."""
    init_cfg = cfg.model.backbone.pop('init_cfg')
    assert init_cfg == dict(
        type='Pretrained', checkpoint='', prefix='backbone.')
    return cfg


@pytest.mark.parametrize('path', MMPRETRAIN_CONFIGS, ids=rel)
def test_every_config_parses(path):
    cfg = Config.fromfile(path)
    if not is_base(path):
        assert cfg.default_scope == 'mmpretrain'
        assert 'mmsim' in cfg.custom_imports.imports


def test_every_recipe_has_a_checked_twin():
    """A new config under configs/mmpretrain/sim is added to the lists
    above (the quick start's twin is checked in test_across_hosts.py)."""
    recipes = {
        path
        for path in MMPRETRAIN_CONFIGS
        if path.startswith(SIM_DIR + osp.sep) and not is_base(path)
    }
    assert recipes == set(TWINS) | {QUICKSTART_CONFIGS['mmpretrain']}
    assert all(osp.exists(twin) for twin in TWINS.values())


@pytest.mark.parametrize('path', MMPRETRAIN_CONFIGS, ids=rel)
def test_stated_iteration_counts_are_the_loaders(path):
    """tests/test_config_headers.py's check (it sweeps only the
    mmselfsup-host configs) on these."""
    headers.test_stated_iteration_counts_are_the_loaders(path)
    if osp.basename(path) in PRETRAINING:
        assert headers.SENTENCE.search(headers.comments(path))


@pytest.mark.parametrize('name', PRETRAINING)
def test_a_pretraining_pipeline_runs(name, tmp_path):
    """mmpretrain's pieces, in mmpretrain's registries: two 224 px views,
    118 of the 14 x 14 patches of view 1 masked, the geometry packed."""
    cfg = Config.fromfile(osp.join(SIM_DIR, name))
    dataset = cfg.train_dataloader.dataset
    assert registry.DATASETS.get(dataset.type) is ImageNet
    pipeline = dataset.pipeline
    assert [t['type'] for t in pipeline] == [
        'SIMLoadImageFromFile', 'SIMTwoViewCrop', 'SIMBlockMaskGenerator',
        'PackInputs'
    ]
    assert pipeline[-1]['algorithm_keys'] == ['rel_pos']
    assert [
        [t['type'] for t in view] for view in pipeline[1]['view_pipelines']
    ] == [['RandomApply', 'RandomGrayscale', 'GaussianBlur'],
          ['RandomApply', 'RandomGrayscale', 'GaussianBlur', 'Solarize']]
    grid = cfg.mask_generator['input_size']
    assert pipeline[2] == cfg.mask_generator
    image = tmp_path / 'image.jpg'
    Image.fromarray(np.random.randint(0, 256, (240, 300, 3),
                                      dtype=np.uint8)).save(image)
    out = Compose(pipeline)(dict(img_path=str(image)))
    assert [tuple(v.shape) for v in out['inputs']] == [(3, 224, 224)] * 2
    mask, rel_pos = host().view_geometry(out['data_samples'])
    assert mask.shape == (grid, grid)
    assert int(mask.sum()) == cfg.mask_generator['num_masking_patches']
    assert rel_pos.shape == (6, )


@pytest.mark.parametrize('name', PRETRAINING)
def test_a_pretraining_recipe_builds_sim(name):
    """In mmpretrain's registry, with the mask on the backbone's grid
    (ViT-L: its config only, building it takes long)."""
    cfg = Config.fromfile(osp.join(SIM_DIR, name))
    assert cfg.runner_type == 'SIMRunner'
    grid = cfg.mask_generator['input_size']
    backbone = cfg.model.backbone
    assert backbone.img_size // backbone.patch_size == grid
    assert cfg.model.neck.grid_size == grid
    arch = VisionTransformer.arch_zoo[backbone.arch]
    assert cfg.model.neck.in_channels == arch['embed_dims']
    if backbone.arch != 'b':
        assert registry.MODELS.get(cfg.model.type) is SIM
        return
    model = registry.MODELS.build(cfg.model)
    assert type(model) is SIM
    assert isinstance(model.data_preprocessor, SelfSupDataPreprocessor)
    assert isinstance(model.backbone, VisionTransformer)
    assert model.backbone.patch_resolution == (grid, grid)
    assert model.neck.grid_size == grid
    assert (model.head.alpha_global,
            model.head.alpha_dense) == (cfg.model.head.alpha_global,
                                        cfg.model.head.alpha_dense)


def unprefixed(name: str) -> str:
    """A class name without the twins' scope prefix (``mmcls.ImageNet``,
    ``mmselfsup.LARS``): mmpretrain has them all in its own scope."""
    for prefix in ('mmselfsup.', 'mmcls.'):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _respell(value: dict) -> dict:
    """One config dict of a twin in mmpretrain's spelling (its children
    already respelled)."""
    for key in ('type', 'constructor'):
        if isinstance(value.get(key), str):
            value[key] = unprefixed(value[key])
    kind = value.get('type')
    if kind == 'RandomGaussianBlur':  # cv2 / PIL, sigma ~ U(min, max)
        value.update(
            type='GaussianBlur',
            magnitude_range=(value.pop('sigma_min'), value.pop('sigma_max')),
            magnitude_std='inf')
    elif kind == 'RandomSolarize':
        value.update(type='Solarize', thr=value.pop('threshold'))
    elif kind == 'PackSelfSupInputs':  # PackInputs packs the mask itself
        keys = [k for k in value.pop('algorithm_keys') if k != 'mask']
        value.update(
            type='PackInputs',
            algorithm_keys=keys + value.pop('pseudo_label_keys'))
    elif kind == 'PackClsInputs':
        value['type'] = 'PackInputs'
    elif kind == 'VisionTransformer' and 'output_cls_token' in value:
        cls_token = value.pop('output_cls_token')
        avg = value.pop('avg_token', False)  # mean -> LayerNorm ln2
        value['out_type'] = ('avg_featmap' if avg else
                             'cls_token' if cls_token else 'featmap')
    elif kind == 'ImageNet' and value.get('ann_file') == 'meta/{}.txt'.format(
            value.get('data_prefix')):
        del value['ann_file']
        value['split'] = value.pop('data_prefix')
    if value.get('constructor') == 'LearningRateDecayOptimWrapperConstructor':
        # mmselfsup: optimizer.model_type picks its ViT depth rule;
        # mmpretrain asks the model's get_layer_depth
        optimizer = value['optimizer']
        if optimizer.pop('model_type', 'vit') == 'vit' and \
                'layer_decay_rate' in optimizer:
            value['paramwise_cfg']['layer_decay_rate'] = optimizer.pop(
                'layer_decay_rate')
    neck = value.get('neck')
    if isinstance(neck, dict) and neck.get('type') == 'LinearProbeNeck':
        # mean of the patch map -> affine-free LN and BN, all eps 1e-6 ==
        # mmpretrain's avg_featmap (ln2 frozen at 1 / 0 by freezing every
        # block) -> ClsBatchNormNeck; test_the_linear_probe_* checks it
        backbone = value['backbone']
        assert set(neck) == {'type', 'in_channels'}
        assert backbone['out_type'] == 'featmap'
        assert backbone['frozen_stages'] == VisionTransformer.arch_zoo[
            backbone['arch']]['num_layers']
        backbone['out_type'] = 'avg_featmap'
        value['neck'] = dict(
            type='ClsBatchNormNeck', input_features=neck['in_channels'])
    return value


def host_free(cfg):
    """A config value with every dict in it respelled as mmpretrain's."""
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(host_free(v) for v in cfg)
    if not isinstance(cfg, dict):
        return cfg
    return _respell({k: host_free(v) for k, v in cfg.items()})


def without_host(cfg: dict) -> dict:
    """A whole config dict without what only names a host: the twins'
    spellings respelled as mmpretrain's; the scope, runner type and
    visualiser class dropped, and the runtime hooks and defaults one host's
    runtime states and the other's leaves to mmengine."""
    cfg = host_free(unscoped(cfg))
    if 'dataset_type' in cfg:
        cfg['dataset_type'] = unprefixed(cfg['dataset_type'])
    for key in ('default_scope', 'runner_type', 'visualizer'):
        cfg.pop(key, None)
    hooks = cfg['default_hooks']
    # mmengine's Runner adds RuntimeInfoHook itself; the visualisation hook
    # of mmcls's / mmpretrain's runtime is off
    hooks.pop('runtime_info', None)
    assert hooks.pop('visualization', dict(enable=False))['enable'] is False
    if cfg['randomness'].get('deterministic') is False:  # the default
        del cfg['randomness']['deterministic']
    return cfg


@pytest.fixture(scope='module')
def twins(tmp_path_factory):
    """The twins' configs as the other host's environment parses them."""
    if not osp.exists(PYTHONS['mmselfsup']):
        pytest.skip('needs the mmselfsup environment too: bash '
                    'tools/setup_env.sh')
    out = tmp_path_factory.mktemp('twins') / 'twins.pth'
    probe('mmselfsup', 'config', str(out), *TWINS.values())
    return torch.load(out)


@pytest.mark.parametrize('path', sorted(TWINS), ids=rel)
def test_the_twins_agree_but_for_the_host(path, twins):
    ours = twins[TWINS[path]]
    theirs = Config.fromfile(path).to_dict()
    assert ours['default_scope'] in ('mmselfsup', 'mmcls')
    assert theirs['default_scope'] == 'mmpretrain'
    if osp.basename(path) in PRETRAINING:
        assert theirs['runner_type'] == 'SIMRunner'
    ours, theirs = without_host(ours), without_host(theirs)
    assert sorted(theirs) == sorted(ours)
    for key in sorted(ours):
        assert theirs[key] == ours[key], key


def classifier(path: str):
    cfg = no_pretrained(Config.fromfile(path))
    return cfg, registry.MODELS.build(cfg.model)


def assert_takes_a_sim_backbone(model) -> None:
    """The classifier's backbone has a place of the same shape for every
    tensor of the SIM recipe's encoder (a checkpoint's ``backbone.*``, of
    either host: test_across_hosts.py), and only its pooling LayerNorm
    (``ln2``) of its own."""
    cfg = Config.fromfile(osp.join(SIM_DIR, PRETRAINING[0]))
    sim = registry.MODELS.build(cfg.model.backbone).state_dict()
    own = model.backbone.state_dict()
    assert set(own) - set(sim) == {'ln2.weight', 'ln2.bias'}
    assert {k: v.shape for k, v in sim.items()} == \
        {k: v.shape for k, v in own.items() if not k.startswith('ln2.')}


def cpu_optim_wrapper(cfg: Config) -> ConfigDict:
    """The config's optimiser wrapper without AMP (AmpOptimWrapper refuses
    to build without a GPU); constructor and optimiser as they are."""
    wrapper = cfg.optim_wrapper.copy()
    assert wrapper.pop('type') == 'AmpOptimWrapper'
    wrapper.pop('loss_scale', None)
    return ConfigDict(wrapper, type='OptimWrapper')


def test_the_linear_probe_trains_only_its_head_on_the_spec_feature():
    """Frozen ViT-B, mean of the patch tokens -> LayerNorm at 1 / 0 ->
    BatchNorm without affine (mmsim's LinearProbeNeck, the mmcls twin's
    neck, computes exactly that) -> Linear; LARS on the head."""
    cfg, model = classifier(LINEAR)
    assert_takes_a_sim_backbone(model)
    assert [n for n, p in model.named_parameters()
            if p.requires_grad] == ['head.fc.weight', 'head.fc.bias']
    ln2 = model.backbone.ln2
    assert ln2.eps == 1e-6
    assert torch.equal(ln2.weight, torch.ones(768))
    assert torch.equal(ln2.bias, torch.zeros(768))
    assert not model.neck.bn.affine and model.neck.bn.eps == 1e-6
    model.train()
    images = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        feats = model.extract_feat(images)
        patch_map = host().vit_patch_map(model.backbone, images)
        expected = LinearProbeNeck(768).train()((patch_map, ))
    assert patch_map.shape == (4, 768, 2, 2)
    torch.testing.assert_close(feats[0], expected[0], rtol=1e-5, atol=1e-5)

    optimizer = build_optim_wrapper(model, cpu_optim_wrapper(cfg)).optimizer
    assert type(optimizer) is LARS
    groups = {
        tuple(p.shape): group
        for group in optimizer.param_groups
        for p in group['params']
    }
    assert len(groups) == 2 and groups.keys() == {(1000, 768), (1000, )}
    for shape, group in groups.items():
        assert group['lr'] == pytest.approx(6.4)
        assert group['weight_decay'] == 0 and group['momentum'] == 0.9
        assert group.get('lars_exclude', False) == (shape == (1000, ))


#: The ViT's stem: patch embedding and tokens (layer depth 0).
STEM = ('backbone.patch_embed.', 'backbone.cls_token', 'backbone.pos_embed')


def layer_decay_scale(name: str, rate: float = 0.65, blocks: int = 12):
    """MAE / BEiT layer decay: block i = 1..12 gets rate ** (13 - i), the
    patch embedding and tokens rate ** 13, fc_norm and head rate ** 0."""
    if name.startswith(STEM):
        return rate**(blocks + 1)
    block = re.match(r'backbone\.layers\.(\d+)\.', name)
    if block:
        return rate**(blocks + 1 - (int(block.group(1)) + 1))
    return 1.


def test_the_fine_tune_decays_lr_by_layer_in_mmpretrain():
    cfg, model = classifier(FINE_TUNE)
    assert_takes_a_sim_backbone(model)
    assert model.backbone.out_type == 'avg_featmap'  # fc_norm: ln2
    assert not model.backbone.final_norm
    # as mmengine's build_optim_wrapper does, in mmpretrain's registry
    wrapper = cpu_optim_wrapper(cfg)
    constructor_type = wrapper.pop('constructor')
    paramwise_cfg = wrapper.pop('paramwise_cfg')
    constructor = registry.OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type=constructor_type,
            optim_wrapper_cfg=wrapper,
            paramwise_cfg=paramwise_cfg))
    assert type(constructor) is LearningRateDecayOptimWrapperConstructor
    optimizer = constructor(model).optimizer
    base_lr = 2.5e-4 * 1024 / 256
    names = {id(p): n for n, p in model.named_parameters()}
    seen = []
    for group in optimizer.param_groups:
        (param, ) = group['params']
        name = names[id(param)]
        seen.append(name)
        assert group['lr'] == pytest.approx(
            base_lr * layer_decay_scale(name), rel=1e-12), name
        no_decay = any(
            key in name
            for key in ('.ln', '.bias', '.cls_token', '.pos_embed'))
        assert group['weight_decay'] == (0. if no_decay else 0.05), name
    assert sorted(seen) == sorted(names.values())
    lrs = {
        group['param_name']: group['lr']
        for group in optimizer.param_groups
    }
    assert lrs['backbone.layers.11.attn.qkv.weight'] == pytest.approx(
        base_lr * 0.65)  # block 12
    assert lrs['backbone.patch_embed.projection.weight'] == pytest.approx(
        base_lr * 0.65**13)
    assert lrs['backbone.ln2.weight'] == lrs['head.fc.weight'] == \
        pytest.approx(base_lr)
