# Copyright (c) mmsim contributors. All rights reserved.
"""benchmarks/_progress.py: the drivers' ``[k/N] name ... elapsed, ETA``
lines."""
import io

import pytest

from benchmarks._progress import StageProgress, format_duration


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 100.

    def __call__(self):
        return self.now


@pytest.mark.parametrize('seconds,text', [(0, '0 s'), (42.4, '42 s'),
                                          (59.4, '59 s'), (60, '1.0 min'),
                                          (210, '3.5 min'), (3600, '1.0 h'),
                                          (5400, '1.5 h')])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_eta_is_the_pace_of_finished_stages_times_what_is_left():
    clock, out = Clock(), io.StringIO()
    stages = StageProgress(4, file=out, clock=clock)
    assert stages.start('a') == '[1/4] a ... 0 s, ETA ?'
    clock.now += 10
    assert stages.start('b') == '[2/4] b ... 10 s, ETA 30 s'  # 10 s x 3
    clock.now += 20
    # 30 s for 2 stages: 15 s each, 2 left (the current one included)
    assert stages.start('c') == '[3/4] c ... 30 s, ETA 30 s'
    clock.now += 60  # 90 s for 3 stages: 30 s each, 1 left
    assert stages.start('d') == '[4/4] d ... 1.5 min, ETA 30 s'
    clock.now += 30
    assert stages.finish() == '[4/4] done in 2.0 min'
    assert out.getvalue().splitlines() == [
        '[1/4] a ... 0 s, ETA ?', '[2/4] b ... 10 s, ETA 30 s',
        '[3/4] c ... 30 s, ETA 30 s', '[4/4] d ... 1.5 min, ETA 30 s',
        '[4/4] done in 2.0 min'
    ]


def test_weights_scale_the_estimate():
    clock = Clock()
    stages = StageProgress([1., 1., 0.5, 0.5], file=io.StringIO(), clock=clock)
    stages.start('pre-train A')
    clock.now += 100
    stages.start('pre-train B')
    clock.now += 300  # 400 s for weight 2: 200 s per unit
    assert stages.start('evaluate A').endswith('ETA 3.3 min')  # 200 x 1
    assert stages.eta() == pytest.approx(200.)


def test_an_unplanned_stage_is_counted_not_fatal():
    clock = Clock()
    stages = StageProgress(1, file=io.StringIO(), clock=clock)
    stages.start('a')
    clock.now += 5
    assert stages.start('b') == '[2/2] b ... 5 s, ETA 5 s'


@pytest.mark.parametrize('weights', [0, [], [1., 0.]])
def test_no_or_weightless_stages_are_refused(weights):
    with pytest.raises(ValueError, match='positive weight'):
        StageProgress(weights)


def test_training_cost_prints_one_line_per_worker(tmp_path, monkeypatch,
                                                  capsys):
    """Every worker process the driver would start is one planned stage
    (the workers are replaced by a stub that answers at once)."""
    from benchmarks.training_cost import run
    args = run.parse_args([
        '--device', 'cpu', '--encoders', 'tiny', '--methods', 'sim_release',
        'mae', '--rounds', '2', '--ablations', 'baseline', '--loss-rows', '8',
        '16', '--images', '2', '--out',
        str(tmp_path)
    ])
    tasks = []
    monkeypatch.setattr(
        run, 'spawn',
        lambda task, timeout: tasks.append(task) or dict(error='stub'))
    run.run_benchmark(args)
    lines = [
        line for line in capsys.readouterr().err.splitlines()
        if line.startswith('[') and '/' in line.split(']')[0]
    ]
    total = run.count_stages(args)
    assert total == len(tasks) == 1 + 2 * 2 + 1 + 2 * 3
    assert [line.split(']')[0] for line in lines
            ] == [f'[{k}/{total}'
                  for k in range(1, total + 1)] + [f'[{total}/{total}']
    assert lines[1].startswith(f'[2/{total}] steps: round 0 tiny sim_release')
    assert lines[-1].startswith(f'[{total}/{total}] done in ')
