# MoCo v2 (mmselfsup's own config) with JointCrop(0): the only change is MultiView -> JointMultiView.
_base_ = 'mmselfsup::selfsup/mocov2/mocov2_resnet50_8xb32-coslr-200e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='JointMultiView', num_views=2, transforms=[{{_base_.view_pipeline}}], joint=dict(crop=0.0)),
        dict(type='PackSelfSupInputs', meta_keys=['img_path']),
    ]))
