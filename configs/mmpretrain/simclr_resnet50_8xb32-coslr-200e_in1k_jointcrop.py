# SimCLR (mmpretrain's own config) with JointCrop(0): the library's file plus the README's one line.
_base_ = 'mmpretrain::simclr/simclr_resnet50_8xb32-coslr-200e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmpretrain'], allow_failed_imports=False)
