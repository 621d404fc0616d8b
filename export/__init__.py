"""Export zoo models to SavedModel and TFLite (LiteRT), each file checked before it is kept."""

from export.saved_model import to_saved_model
from export.tflite import ExportParityError, ExportReport, evaluate_tflite, to_tflite

__all__ = ["to_tflite", "to_saved_model", "evaluate_tflite", "ExportReport", "ExportParityError"]
