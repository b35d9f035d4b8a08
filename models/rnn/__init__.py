"""RNN, GRU and LSTM: character language models of one size, and a live series forecaster (page: pages/rnn.py)."""
from models.rnn.recipe import SHIPPED

__all__ = ["SHIPPED"]
