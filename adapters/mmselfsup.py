"""mmselfsup adapter: JointCrop / JointBlur / JointColor switched on at the end of any mmselfsup config.

One line, pasted at the end of a config whose train pipeline has mmselfsup's ``MultiView``, switches
JointCrop(0) on::

    custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)

An optional ``jointaug = dict(...)`` sets the joint options (see :class:`~jointaug_plugins.JointOptions`);
``jointaug = None`` trains independent views on purpose. Importing this module registers ``JointMultiView``
into mmselfsup's ``TRANSFORMS`` registry, makes mmengine's Runner apply the switch (see
:mod:`jointaug_plugins.adapters.mm.switch`), and applies the upstream fixes of
:mod:`jointaug_plugins.adapters.mm.upstream_fixes`.
"""

from .mm.install import install

JointMultiView = install("mmselfsup")

__all__ = ["JointMultiView"]
