# MoCo v1 (mmselfsup's own config) with JointCrop(0) + ContrastiveCrop's center-suppressed sampling (alpha 0.6):
# the paper's best MoCo v1 row. JointCrop paper, appendix G, Table 11 (ImageNet-1K linear top-1, 200 epochs):
#   MoCo v1 baseline 57.25 | + ContrastiveCrop 58.34 | + JointCrop(0) 60.87 | JointCrop(0) + center-suppressed 61.33
# The library's file, the README's one line, and the options line: crop areas drawn jointly (JointCrop(0)), every
# crop of every view placed by Beta(0.6, 0.6) between the image's edges (ContrastiveCrop's ImageNet value).
_base_ = 'mmselfsup::selfsup/mocov1/mocov1_resnet50_8xb32-steplr-200e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)
jointaug = dict(crop=0.0, position=dict(alpha=0.6))
