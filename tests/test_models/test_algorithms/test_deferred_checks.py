# Copyright (c) mmsim contributors. All rights reserved.
import pytest
import torch

from mmsim.models.algorithms import DeferredChecks
from tests._dist_utils import run_distributed

CHECKS = dict(
    loss=(FloatingPointError, 'loss not finite at {iteration}'),
    mask=(ValueError, 'masks differ at {iteration}'))


def test_records_the_first_failure_and_raises_when_asked():
    checks = DeferredChecks(CHECKS)
    checks.raise_if_failed()  # nothing recorded
    for it, value in enumerate([1., 2., float('nan'), float('inf')]):
        loss = torch.tensor(value)
        checks.record('loss', ~torch.isfinite(loss), it)
        checks.record('mask', torch.tensor(False), it)
    with pytest.raises(FloatingPointError, match='at iteration 2$'):
        checks.raise_if_failed()
    with pytest.raises(KeyError, match='unknown check'):
        checks.record('other', torch.tensor(True), 0)


def _fail_on_rank_1(rank, world_size):
    checks = DeferredChecks(CHECKS)
    checks.record('mask', torch.tensor(rank == 1), 5)
    try:
        checks.raise_if_failed()
    except ValueError as error:
        return str(error)
    return None


def test_every_process_raises_when_one_failed():
    messages = run_distributed(_fail_on_rank_1)
    assert messages == [
        'masks differ at an iteration of another process',
        'masks differ at iteration 5'
    ]
