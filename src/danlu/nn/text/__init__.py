"""Neural text classifiers over padded token ids (see :mod:`danlu.nn.text_classifiers`)."""

from danlu.nn.text.cnn import TextCNN
from danlu.nn.text.rnn import TextRCNN, TextRNN, TextRNNAttention
from danlu.nn.text.transformer import TransformerClassifier

__all__ = ["TextCNN", "TextRCNN", "TextRNN", "TextRNNAttention", "TransformerClassifier"]
