"""mmselfsup adapter: JointCrop / JointBlur / JointColor switched on at the end of any mmselfsup config.

Paste at the end of a config whose train pipeline has mmselfsup's ``MultiView``::

    custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)
    jointaug = dict(crop=0.0)

Importing this module registers ``JointMultiView`` into mmselfsup's ``TRANSFORMS`` registry, makes
mmengine's Runner apply the ``jointaug`` switch (see :mod:`jointaug_plugins.adapters.mm.switch`), and
applies the upstream fixes of :mod:`jointaug_plugins.adapters.mm.upstream_fixes`.
"""

from .mm.install import install
from .mm.multiview import JOINT_KEYS, parse_joint

JointMultiView = install("mmselfsup")

__all__ = ["JOINT_KEYS", "JointMultiView", "parse_joint"]
