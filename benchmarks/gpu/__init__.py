# Copyright (c) mmsim contributors. All rights reserved.
