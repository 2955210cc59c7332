"""The tools behind the ``jointaug`` commands (the ``tools`` extra: scipy, matplotlib, tqdm, scikit-learn,
scikit-image).

Nothing here is imported by the core or imports an adapter or an SSL library; libraries contribute
through the plugin hooks (``jointaug_verify_target``, ``jointaug_bench_cases``). Modules, one job each:

* :mod:`.stats`: Monte Carlo pair-ratio and centre-distance statistics against the closed forms, plots;
* :mod:`.distance`: the crop-centre distance under the ``position`` option's distance knob (``stats --distance``);
* :mod:`.preview`: image grids of positive pairs, and where crops land (``preview --position``);
* :mod:`.images`: the embedded default images, the photographs that ship in packages, or the user's files;
* :mod:`.bench`: timings of joint draws against the transforms they replace, and of the batched paths;
* :mod:`.difficulty`, :mod:`.simsiam`, :mod:`.encoders`, :mod:`.difficulty_plot`: the paper's Figs. 4 and 5
  at small scale (SimSiam's training loss and the SDF per β, over seeds), its model, encoders, its PNG;
* :mod:`.verify`, :mod:`.verify_target`, :mod:`.verify_walk`, :mod:`.verify_probe`, :mod:`.verify_stats`:
  ``jointaug verify`` (resolve a target, what a target is, read its layout, the probe image, the measurement).

Submodules are imported on use: ``from jointaug_plugins.tools.stats import ratio_stats``.
"""
