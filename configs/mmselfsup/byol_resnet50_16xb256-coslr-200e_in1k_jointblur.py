# BYOL (mmselfsup's own config) with JointBlur(0): the library's file plus the README's line
# and the options line (crop=None: without it, JointCrop(0) would be on too).
_base_ = 'mmselfsup::selfsup/byol/byol_resnet50_16xb256-coslr-200e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)
jointaug = dict(crop=None, blur=0.0)
