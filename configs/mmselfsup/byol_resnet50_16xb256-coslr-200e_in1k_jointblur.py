# BYOL (mmselfsup's own config) with JointBlur(0): the only change is MultiView -> JointMultiView.
_base_ = 'mmselfsup::selfsup/byol/byol_resnet50_16xb256-coslr-200e_in1k.py'

custom_imports = dict(imports=['jointaug_plugins.adapters.mmselfsup'], allow_failed_imports=False)

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(
            type='JointMultiView',
            num_views=[1, 1],
            transforms=[{{_base_.view_pipeline1}}, {{_base_.view_pipeline2}}],
            joint=dict(blur=0.0)),
        dict(type='PackSelfSupInputs', meta_keys=['img_path']),
    ]))
