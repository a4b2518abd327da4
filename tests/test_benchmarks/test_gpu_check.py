# Copyright (c) mmsim contributors. All rights reserved.
"""The GPU check (benchmarks/gpu), in its reduced CPU form, so it cannot
rot before a GPU runs it; and its parts against independent numbers."""
import importlib.util
import json

import pytest
import torch

from benchmarks.gpu import amp_checks, check, sim_setup, step_timing
from tests._host import HOST_NAME


def test_reduced_run_writes_its_tables(tmp_path):
    results = check.main(
        ['--reduced', '--device', 'cpu', '--out',
         str(tmp_path)])
    saved = json.loads((tmp_path / 'gpu_check.json').read_text())
    assert saved['environment']['host'] == HOST_NAME
    assert saved['config'] == sim_setup.RECIPES[HOST_NAME]
    [fp32] = saved['precisions']
    assert fp32['precision'] == 'fp32'
    assert [row['batch'] for row in fp32['rows']] == [2, 4]
    for row in fp32['rows']:
        assert row['step_s'] > 0 and len(row['losses']) == 2
        assert all(loss == loss for loss in row['losses'])  # finite
        if row['flops'] is not None:  # torch >= 2.1 counts them
            assert row['tflops_per_s'] == pytest.approx(row['flops'] /
                                                        row['step_s'] / 1e12)
    flops = [row['flops'] for row in fp32['rows']]
    if flops[0] is not None:  # twice the batch, twice the work
        assert flops[1] == pytest.approx(2 * flops[0], rel=1e-6)
    agreement = saved['checks']['amp_loss_agreement']
    assert agreement['rel_diff']['fp32'] < 1e-5
    assert agreement['rel_diff']['bf16'] < 1e-2
    for name in amp_checks.SYNC_CHECKS + ('fp16_overflow', ):
        assert saved['checks'][name] == dict(skipped='needs a CUDA device')
    markdown = (tmp_path / 'gpu_check.md').read_text()
    assert '| fp32 | 4 |' in markdown and 'bf16 vs fp32' in markdown
    assert results['wall_s'] > 0


@pytest.mark.skipif(
    importlib.util.find_spec('torch.utils.flop_counter') is None,
    reason='torch < 2.1 has no FlopCounterMode')
def test_flop_count_of_the_encoder_equals_the_vit_formula():
    """FlopCounterMode over the recipe's encoder (reduced width) against
    the ViT forward count written out: patch embedding, qkv, attention
    (QK^T and AV), projection and MLP per block."""
    cfg = sim_setup.load_config(reduced=True)
    cfg.model.backbone.arch.num_layers = 2
    model = sim_setup.build_model(cfg, 'cpu')
    images = torch.randn(3, 3, 224, 224)
    counted = step_timing.count_flops(lambda: model.backbone(images))
    batch, dims, ffn, layers, patch = 3, 64, 128, 2, 16
    patches = (224 // patch)**2
    tokens = patches + 1  # the class token
    embed = 2 * batch * patches * (3 * patch * patch) * dims
    block = (
        2 * batch * tokens * dims * 3 * dims  # qkv
        + 2 * 2 * batch * tokens * tokens * dims  # QK^T, AV
        + 2 * batch * tokens * dims * dims  # projection
        + 2 * 2 * batch * tokens * dims * ffn)  # MLP
    assert counted == embed + layers * block


@pytest.mark.parametrize('limit_of_memory, largest', [(300, 288), (50, 32),
                                                      (10, 0), (5000, 2048),
                                                      (128, 128),
                                                      (2047, 2016)])
def test_largest_batch_search(limit_of_memory, largest):
    found = step_timing.search_largest(lambda size: size <= limit_of_memory)
    assert found['batch'] == largest
    assert all(ok == (size <= limit_of_memory) for size, ok in found['tried'])
    assert len(found['tried']) <= 12


def test_mfu_and_peaks():
    assert step_timing.peak_tflops('NVIDIA H100 80GB HBM3', 'bf16') == 989.
    assert step_timing.peak_tflops('NVIDIA H100 PCIe', 'bf16') == 756.
    assert step_timing.peak_tflops('NVIDIA H200', 'fp32') == 67.
    assert step_timing.peak_tflops('a CPU', 'bf16') is None
    # 494.5 TFLOP in one second on a 989 TFLOP/s part: half
    assert step_timing.mfu(494.5e12, 1., 989.) == pytest.approx(0.5)
    assert step_timing.mfu(None, 1., 989.) is None


def test_cpu_refuses_amp_steps(tmp_path, capsys):
    with pytest.raises(SystemExit):
        check.parse_args([
            '--device', 'cpu', '--precisions', 'bf16', '--out',
            str(tmp_path)
        ])
    assert 'only fp32' in capsys.readouterr().err
