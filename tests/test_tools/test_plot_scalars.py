# Copyright (c) mmsim contributors. All rights reserved.
"""tools/analysis/plot_scalars.py on a scalars.json the test writes."""
import importlib.util
import json
import os
import os.path as osp

import pytest
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'mmsim_plot_scalars',
        osp.join(REPO, 'tools', 'analysis', 'plot_scalars.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
ITERS_PER_EPOCH = 10


def write_run(work_dir,
              run='20260101_000000',
              epochs=2,
              interval=4,
              knn=(20., 30., 45.),
              cut_last_line=False):
    """mmengine's layout: the monitor's lines (step = epoch) and training
    lines every ``interval`` iterations of each epoch (step = iter)."""
    folder = osp.join(str(work_dir), run, 'vis_data')
    records = [{'knn/top1': knn[0], 'step': 0}, {'dense/mIoU': 10., 'step': 0}]
    for epoch in range(1, epochs + 1):
        for inner in range(interval, ITERS_PER_EPOCH + 1, interval):
            it = (epoch - 1) * ITERS_PER_EPOCH + inner
            records.append(
                dict(
                    lr=1e-3 * it, loss=10. / it, epoch=epoch, iter=it,
                    step=it))
        records.append({'knn/top1': knn[epoch], 'step': epoch})
        records.append({'dense/mIoU': 10. + epoch, 'step': epoch})
    os.makedirs(folder, exist_ok=True)
    path = osp.join(folder, 'scalars.json')
    with open(path, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
        if cut_last_line:  # a job still writing
            f.write('{"loss": 0.5, "ep')
    return path


def test_series_share_the_epoch_axis(tmp_path):
    path = write_run(tmp_path)
    records = tool.read_records(path)
    assert tool.iters_per_epoch(records) == ITERS_PER_EPOCH
    series = tool.collect(records, ['knn/top1', 'loss'], 'epoch', path)
    assert series['knn/top1'] == ([0., 1., 2.], [20., 30., 45.])
    # iterations 4, 8 | 14, 18 of 10 per epoch
    assert series['loss'][0] == pytest.approx([0.4, 0.8, 1.4, 1.8])
    assert series['loss'][1] == pytest.approx([2.5, 1.25, 10 / 14, 10 / 18])
    by_iter = tool.collect(records, ['knn/top1', 'lr'], 'iter', path)
    assert by_iter['knn/top1'][0] == [0., 10., 20.]
    assert by_iter['lr'][0] == [4., 8., 14., 18.]


def test_one_epoch_logged_uses_its_last_iteration(tmp_path):
    records = tool.read_records(write_run(tmp_path, epochs=1, interval=5))
    assert tool.iters_per_epoch(records) == 10  # iterations 5, 10


def test_cli_writes_a_png_and_names_what_it_read(tmp_path, capsys):
    write_run(tmp_path, run='20260101_000000', knn=(1., 2., 3.))
    latest = write_run(tmp_path, run='20260102_000000', cut_last_line=True)
    out = str(tmp_path / 'plots' / 'monitor.png')
    assert tool.main([
        str(tmp_path), '--keys', 'knn/top1', 'dense/mIoU', 'loss', '--out', out
    ]) == 0
    printed = capsys.readouterr().out
    assert f'from {latest}' in printed  # the latest run by default
    assert 'knn/top1: 3 points, dense/mIoU: 3 points, loss: 4 points' in \
        printed
    with Image.open(out) as image:
        assert image.format == 'PNG'
        width, height = image.size
    assert width == 600 and height > 3 * 200  # three panels, 100 dpi
    assert tool.main([str(tmp_path), '--run', '20260101_000000']) == 0
    assert osp.isfile(tmp_path / 'scalars.png')  # default out: the work dir
    assert 'from ' + osp.join(str(tmp_path), '20260101_000000') in \
        capsys.readouterr().out


def test_absent_key_names_the_file_and_lists_the_keys(tmp_path, capsys):
    path = write_run(tmp_path)
    assert tool.main([str(tmp_path), '--keys', 'knn/top1', 'knn/top5']) == 1
    err = capsys.readouterr().err
    assert err == (f'error: {path} has no knn/top5; its scalars: knn/top1, '
                   'dense/mIoU, lr, loss\n')
    assert not osp.exists(tmp_path / 'scalars.png')


@pytest.mark.parametrize('run', [None, '20990101_000000'])
def test_no_scalars_json_names_the_path(tmp_path, capsys, run):
    write_run(tmp_path / 'other')  # a run elsewhere does not count
    args = [str(tmp_path)] + (['--run', run] if run else [])
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    expected = osp.join(str(tmp_path), run or '*', 'vis_data', 'scalars.json')
    assert err.startswith(f'error: no {expected}: ') and err.count('\n') == 1
    assert 'LocalVisBackend' in err


def test_iteration_based_run_refuses_the_epoch_axis(tmp_path):
    path = str(tmp_path / 'scalars.json')
    with open(path, 'w') as f:
        f.write(json.dumps(dict(loss=1., iter=5, step=5)) + '\n')
    records = tool.read_records(path)
    with pytest.raises(tool.ScalarsError, match='--x iter'):
        tool.collect(records, ['loss'], 'epoch', path)
    assert tool.collect(records, ['loss'], 'iter', path) == {
        'loss': ([5.], [1.])
    }


def test_pixel_baseline_is_drawn_on_the_knn_panel(tmp_path, capsys):
    """The monitor's knn/pixels (one value, logged at the start) is a
    dashed level on the knn/top1 panel: named in the summary, and the
    panel's pixels hold its grey where the plot without it has none."""
    path = write_run(tmp_path)
    with open(path) as f:
        lines = f.readlines()
    with open(path, 'w') as f:
        f.write(json.dumps({'knn/pixels': 83.2, 'step': 0}) + '\n')
        f.writelines(lines)
    records = tool.read_records(path)
    assert tool.baseline_levels(records, ['knn/top1', 'loss']) == {
        'knn/top1': ('knn/pixels', 83.2)
    }
    assert tool.baseline_levels(records, ['loss']) == {}
    with_level, without = str(tmp_path / 'a.png'), str(tmp_path / 'b.png')
    assert tool.main(
        [str(tmp_path), '--keys', 'knn/top1', '--out', with_level]) == 0
    assert 'knn/top1: 3 points; knn/pixels 83.20 drawn on the knn/top1 ' \
        'panel; from' in capsys.readouterr().out
    series = tool.collect(records, ['knn/top1'], 'epoch', path)
    tool.plot(series, 'epoch', without, path)

    def grey(png):
        import numpy as np
        with Image.open(png) as image:
            rgb = np.asarray(image.convert('RGB')).astype(int)
        same = (rgb[..., 0] == rgb[..., 1]) & (rgb[..., 1] == rgb[..., 2])
        return int((same & (rgb[..., 0] >= 90) & (rgb[..., 0] <= 170)).sum())

    assert grey(with_level) - grey(without) > 150  # the dashed level
