# Copyright (c) mmsim contributors. All rights reserved.
"""Run a function in N CPU processes on the gloo backend."""
import os
import socket
import sys
import tempfile
import traceback

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _worker(rank, world_size, port, fn, out_dir):
    os.environ['MASTER_ADDR'] = '127.0.0.1'
    os.environ['MASTER_PORT'] = str(port)
    code = 0
    try:
        dist.init_process_group('gloo', rank=rank, world_size=world_size)
        args = torch.load(os.path.join(out_dir, 'args.pth'))
        result = fn(rank, world_size, *args)
        torch.save(result, os.path.join(out_dir, f'{rank}.pth'))
        # No destroy_process_group(): with gloo on torch 2.0.1 it can spin
        # forever; a barrier then os._exit ends every rank cleanly.
        dist.barrier()
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    # The result is on disk; skip interpreter teardown (gloo threads).
    os._exit(code)


def run_distributed(fn, world_size=2, args=()):
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` gloo processes
    and return the list of their results (saved with torch.save)."""
    with tempfile.TemporaryDirectory() as out_dir:
        # Arguments go through a file, not through torch's shared-memory
        # tensor passing, which can leave a spawned child hanging.
        torch.save(tuple(args), os.path.join(out_dir, 'args.pth'))
        mp.start_processes(
            _worker,
            args=(world_size, _free_port(), fn, out_dir),
            nprocs=world_size,
            join=True,
            start_method='spawn')
        return [
            torch.load(os.path.join(out_dir, f'{rank}.pth'))
            for rank in range(world_size)
        ]
