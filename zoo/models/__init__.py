"""Model builders. Importing this package registers every model with `zoo.registry`."""

from zoo.models import cnn, draw, draw_classifier, grid_lstm, grid_lstm_image, grid_lstm_lm, ram, seq2seq, show_attend_tell, stn  # noqa: F401
