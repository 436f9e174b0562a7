"""The data layer: importers, validation and cleaning, splits and the synthetic shop.

Works on pandas tables and numpy arrays only (no torch), so importing it stays light.
"""

from engine.data.cleaning import CleaningReport
from engine.data.importers import FORMATS, detect_format
from engine.data.io import write_dataset_dir, write_tables
from engine.data.loading import build_dataset, load_dataset
from engine.data.schema import Dataset, category_matrix, parse_column_map
from engine.data.splits import Split, interactions, split_interactions
from engine.data.synthetic import generate_shop

__all__ = [
    "FORMATS",
    "CleaningReport",
    "Dataset",
    "Split",
    "build_dataset",
    "category_matrix",
    "detect_format",
    "generate_shop",
    "interactions",
    "load_dataset",
    "parse_column_map",
    "split_interactions",
    "write_dataset_dir",
    "write_tables",
]
