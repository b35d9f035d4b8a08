"""How the shipped recurrent character models are trained: the shared character-LM recipe
(`zoo.training.char_lm`, which also holds the page's fine-tuning job) with each cell's settings."""
from models.rnn.model import CharRNN, RNNConfig
from zoo.training.char_lm import CharLMRecipe, CharLMTraining


def _recipe(cell: str, n_hidden: int, title: str, lr: float, steps: int = 6000,
            bf16_on_cpu: bool = False, dropout: float = 0.0) -> CharLMRecipe:
    return CharLMRecipe(CharRNN, RNNConfig(cell=cell, n_hidden=n_hidden, dropout=dropout), title=title,
                        training=CharLMTraining(steps=steps, batch_size=64, seq_len=128, lr=lr, grad_clip=1.0,
                                                bf16_on_cpu=bf16_on_cpu))


# One layer each at one parameter budget (~1.25M) so the cells compare; why the GRU runs longer: its card's note.
SHIPPED = {
    "rnn-text": _recipe("rnn", 1030, "Vanilla RNN", lr=2e-3),
    "gru-text": _recipe("gru", 592, "GRU", lr=2e-3, steps=24000, bf16_on_cpu=True, dropout=0.15),
    "lstm-text": _recipe("lstm", 512, "LSTM", lr=4e-3),
}
