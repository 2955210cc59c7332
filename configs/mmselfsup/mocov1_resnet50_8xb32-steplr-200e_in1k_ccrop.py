# MoCo v1 (mmselfsup's own config) with ContrastiveCrop's center-suppressed sampling alone (alpha 0.6, crop areas
# independent, as torchvision draws them). JointCrop paper, appendix G, Table 11 (ImageNet-1K linear top-1):
#   MoCo v1 baseline 57.25 | + ContrastiveCrop 58.34 (this config) | + JointCrop(0) 60.87
#   | JointCrop(0) + center-suppressed 61.33
# crop=None switches JointCrop off (an absent crop would mean JointCrop(0) on); the position still places every crop.
_base_ = 'mmselfsup::selfsup/mocov1/mocov1_resnet50_8xb32-steplr-200e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)
jointaug = dict(crop=None, position=dict(alpha=0.6))
