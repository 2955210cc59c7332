# MoCo v3 (mmpretrain's own config) with JointCrop(0): the library's file plus the README's one line.
_base_ = 'mmpretrain::mocov3/mocov3_resnet50_8xb512-amp-coslr-100e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmpretrain'], allow_failed_imports=False)
