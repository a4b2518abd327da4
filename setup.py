# Copyright (c) mmsim contributors. All rights reserved.
from setuptools import setup

setup()
