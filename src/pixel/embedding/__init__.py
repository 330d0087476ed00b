"""Sentence embeddings of PIXEL encoders (`pixel embed`): `encode` (the encoder of any folder, pooled
vectors), `retrieval` (nearest-neighbour search over parallel texts), `scatter` (a PCA picture of vectors)."""
