"""maml-viz: meta-learning (MAML, FOMAML, Reptile, ANIL, Meta-SGD and baselines) made visible.

The backend knows nothing of Streamlit. Data flows config -> tasks -> algorithm -> run ->
adaptation trajectory -> figure; see DESIGN.md for the map.
"""
from .engine.config import ConfigError, TrainConfig

__all__ = ["ConfigError", "TrainConfig"]
__version__ = "0.1.0"
