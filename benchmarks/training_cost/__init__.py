# Copyright (c) mmsim contributors. All rights reserved.
"""Training-cost benchmark: SIM against mmselfsup's MAE and MoCo v3.

Run ``python -m benchmarks.training_cost.run`` from the repository root;
see the README here.
"""
