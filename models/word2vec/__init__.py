"""Word2Vec: skip-gram word vectors trained by gensim, explored, and trained on your text (page: pages/word2vec.py)."""
from models.word2vec.recipe import SHIPPED

__all__ = ["SHIPPED"]
