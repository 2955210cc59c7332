# MoCo v1 (mmselfsup's own config) with JointCrop(0) + ContrastiveCrop with semantic-aware localization: each crop
# lands by Beta(0.6, 0.6) inside a per-image box that the model's own feature map sets (channel sum, min-max
# normalised, rows/columns above 0.1) after a 20-epoch warm-up and every 20 epochs after; until then inside the
# whole image. ContrastiveCrop's ImageNet values. JointCrop paper, appendix G, Table 11 (ImageNet-1K top-1):
#   MoCo v1 baseline 57.25 | + ContrastiveCrop 58.34 | + JointCrop(0) 60.87 | JointCrop(0) + center-suppressed 61.33
# The adapter registers the hook that updates the boxes (saved in checkpoints as jointaug_boxes).
_base_ = 'mmselfsup::selfsup/mocov1/mocov1_resnet50_8xb32-steplr-200e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)
jointaug = dict(crop=0.0, position=dict(alpha=0.6, boxes='semantic', warmup=20, interval=20, threshold=0.1))
