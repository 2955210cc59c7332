"""NVIDIA DALI adapter: joint views inside DALI pipelines (``pip install 'jointaug-plugins[dali]'``).

- :class:`DALIView` describes one view of a recipe (crop, jitter, grayscale, blur, solarise, flip,
  normalisation), :class:`JointDALIViews` makes a list of them joint: called on the encoded images of a
  ``pipeline_def`` it returns one ``DataNode`` per view. DALI itself is imported only when the views are
  put into a pipeline.
- solo-learn's ``data.format: dali`` goes through :mod:`.solo` (the ``- jointaug: crop`` switch).
"""

from .view import DALIView
from .views import JointDALIViews

__all__ = ["DALIView", "JointDALIViews"]
