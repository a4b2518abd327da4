# Copyright (c) mmsim contributors. All rights reserved.
"""When mmsim's components enter their toolboxes' registries.

``import mmsim`` must register the pre-training components (transforms,
models, hooks) in the host toolbox's registries, so that a config's
``custom_imports=dict(imports=['mmsim'])`` finds them; but it must not
import the host: ``mmsim.det`` (for mmdet), ``mmsim.layers`` and the
converters run without mmselfsup and mmcls. So :func:`register_components`
(called by ``mmsim/__init__.py``)

- imports :data:`HOST_FREE` at once: components that register in
  mmengine's own registries and import no host (the checkpoint hook, the
  runner, the optimiser constructor), which mmdet, mmseg and mmcls configs
  use too;
- imports the components of a host in :data:`HOSTS` at once if that host
  is already imported, else installs :class:`HostImportHook`, a one-shot
  ``sys.meta_path`` finder: when a host is first imported, its own loader
  executes it as usual, then the hook imports the host's components.
  Whichever host is imported first wins; the hook is then removed, so no
  other host is ever imported by it.

Re-entrancy: a host is often first imported by an mmsim module itself
(``import mmsim.datasets`` reaches ``from mmselfsup... import``), half-way
through its own execution; a component importing that half-executed
module would fail. So the hook also follows the execution of ``mmsim.*``
modules and imports the components only when none is executing, i.e.
right after the outermost one finishes; and it imports only the
components not already in ``sys.modules``.
"""
import importlib
import importlib.abc
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Callable, Dict, Optional, Sequence, Tuple

#: Imported with mmsim: register in mmengine's root registries, no host.
HOST_FREE: Tuple[str, ...] = ('mmsim.engine', )

#: The mmsim modules that register in a host's registries.
HOST_COMPONENTS: Tuple[str, ...] = ('mmsim.datasets',
                                    'mmsim.engine.hooks.knn_monitor_hook',
                                    'mmsim.engine.hooks.training_checks_hook',
                                    'mmsim.models')

#: Host toolbox -> the mmsim modules that register in its registries (the
#: same ones: :mod:`mmsim.hosts` says which host they register in).
HOSTS: Dict[str, Tuple[str, ...]] = {
    'mmselfsup': HOST_COMPONENTS,
    'mmpretrain': HOST_COMPONENTS,
}


def import_modules(names: Sequence[str]) -> None:
    """Import the modules of ``names`` not in ``sys.modules`` yet."""
    for name in names:
        if name not in sys.modules:
            importlib.import_module(name)


def choose_known_host(name: str) -> None:
    """Tell :mod:`mmsim.hosts` the host the components register in (a
    name outside its ``HOST_PACKAGES``, e.g. a test's, is left alone)."""
    from .hosts import HOST_PACKAGES, choose_host
    if name in HOST_PACKAGES:
        choose_host(name)


class _FollowedLoader(importlib.abc.Loader):
    """A module's own loader, with calls before and after it executes."""

    def __init__(self, loader: importlib.abc.Loader,
                 before: Callable[[], None], after: Callable[[bool],
                                                             None]) -> None:
        self.loader = loader
        self.before = before
        self.after = after

    def create_module(self, spec: ModuleSpec) -> Optional[ModuleType]:
        return self.loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        # The module keeps its own loader (resources, source, reloading).
        module.__loader__ = module.__spec__.loader = self.loader
        self.before()
        done = False
        try:
            self.loader.exec_module(module)
            done = True
        finally:
            self.after(done)


class HostImportHook(importlib.abc.MetaPathFinder):
    """Imports mmsim's components of the first host toolbox imported.

    Args:
        hosts (dict[str, Sequence[str]]): Host package -> the modules that
            register mmsim's components in its registries.
        package (str): The package whose modules are followed (see the
            module's note on re-entrancy). Defaults to 'mmsim'.
    """

    def __init__(self,
                 hosts: Dict[str, Sequence[str]],
                 package: str = 'mmsim') -> None:
        self.hosts = dict(hosts)
        self.prefix = package + '.'
        self.host: Optional[str] = None  # the first host imported
        self._executing = 0  # followed modules executing now

    def install(self) -> None:
        """Put the hook first on ``sys.meta_path``."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        """Take the hook off ``sys.meta_path``."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)

    def find_spec(self,
                  fullname: str,
                  path: Optional[Sequence[str]],
                  target: Optional[ModuleType] = None) -> Optional[ModuleSpec]:
        """The spec the other finders give, with its loader followed, for
        a host (before any host was imported) or an mmsim module."""
        if fullname in self.hosts and self.host is None:
            before, after = (lambda: None), self._host_done(fullname)
        elif fullname.startswith(self.prefix):
            before, after = self._enter, self._leave
        else:
            return None
        for finder in sys.meta_path:
            find = getattr(finder, 'find_spec', None)
            if finder is self or find is None:
                continue
            spec = find(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if hasattr(spec.loader, 'exec_module'):
            spec.loader = _FollowedLoader(spec.loader, before, after)
        return spec

    def _host_done(self, host: str) -> Callable[[bool], None]:

        def after(done: bool) -> None:
            if done and self.host is None:
                self.host = host
                self._import_if_idle()

        return after

    def _enter(self) -> None:
        self._executing += 1

    def _leave(self, done: bool) -> None:
        self._executing -= 1
        if done:
            self._import_if_idle()

    def _import_if_idle(self) -> None:
        """Import the host's components once no mmsim module executes."""
        if self.host is not None and self._executing == 0:
            self.uninstall()
            choose_known_host(self.host)
            import_modules(self.hosts[self.host])


def register_components(hosts: Dict[str, Sequence[str]] = HOSTS,
                        host_free: Sequence[str] = HOST_FREE) -> None:
    """Import ``host_free``, and each host's components now or when that
    host is first imported (see the module's docstring).

    Args:
        hosts (dict[str, Sequence[str]]): Host package -> its components,
            in order of preference when several are imported already.
            Defaults to :data:`HOSTS`.
        host_free (Sequence[str]): Modules to import now. Defaults to
            :data:`HOST_FREE`.
    """
    import_modules(host_free)
    for host, modules in hosts.items():
        if host in sys.modules:
            choose_known_host(host)
            import_modules(modules)
            return
    if not any(isinstance(f, HostImportHook) for f in sys.meta_path):
        HostImportHook(hosts).install()
