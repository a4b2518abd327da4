# Copyright (c) mmsim contributors. All rights reserved.
"""The host's ColorJitter without mmcv's warning on every saturation
change."""
import warnings

from ...hosts import host

#: What mmcv's ``adjust_color`` warns on every call with the pillow backend.
PILLOW_ALPHA_WARNING = "Only use 'alpha' for pillow backend."


@host().TRANSFORMS.register_module()
class SIMColorJitter(host().ColorJitter):
    """The host's ``ColorJitter`` (mmselfsup's or mmpretrain's, the same
    algorithm: torchvision semantics through Pillow), silent about mmcv's
    pillow-backend note.

    With ``backend='pillow'`` (mmselfsup's default, which matches the
    release's torchvision jitter) ``mmcv.adjust_color`` warns "Only use
    'alpha' for pillow backend." on every call, although the jitter only
    passes ``alpha`` (the saturation factor). Python prints it once per
    process, so a dataloader whose workers restart every epoch
    (``persistent_workers=False``) prints it again every epoch. This
    subclass silences exactly that warning while it transforms; the
    augmentation is the host's, unchanged (same random draws, same
    pixels).

    Args:
        **kwargs: Arguments of the host's ``ColorJitter`` (``brightness``,
            ``contrast``, ``saturation``, ``hue``, ``backend``).

    Examples:
        >>> jitter = SIMColorJitter(brightness=0.4, contrast=0.4,
        ...                         saturation=0.2, hue=0.1)
    """

    def transform(self, results: dict) -> dict:
        """Jitter ``results['img']`` ((H, W, 3) uint8 BGR) as the host's
        ``ColorJitter`` does.

        Args:
            results (dict): Holds 'img'.

        Returns:
            dict: With the jittered (H, W, 3) uint8 'img'.
        """
        with warnings.catch_warnings():
            warnings.filterwarnings(
                'ignore', message=PILLOW_ALPHA_WARNING, category=UserWarning)
            return super().transform(results)
