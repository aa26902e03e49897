"""Sentence embeddings with all-MiniLM-L6-v2: tokenise -> encoder + mean pooling -> unit length.

The weights and tokenizer live in data/all-MiniLM-L6-v2 (copied there by build.py) and are
loaded with local_files_only, so nothing is ever fetched from a model hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MAX_TOKENS = 256  # what the model was trained with (sentence_bert_config.json)


class Model:
    def __init__(self, data_dir: Path, **kwargs: Any) -> None:
        self._weights = Path(data_dir) / "all-MiniLM-L6-v2"
        self._tokenizer: Any = None
        self._encoder: Any = None

    def load(self) -> None:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging

        logging.disable_progress_bar()  # keep stderr for messages that matter
        self._tokenizer = AutoTokenizer.from_pretrained(self._weights, local_files_only=True)
        self._encoder = AutoModel.from_pretrained(self._weights, local_files_only=True).eval()

    def preprocess(self, model_input: str | list[str]) -> Any:
        """One sentence or a list of sentences -> token ids and attention mask (padded batch)."""
        sentences = [model_input] if isinstance(model_input, str) else list(model_input)
        if not sentences or not all(isinstance(s, str) for s in sentences):
            raise ValueError("send a sentence or a non-empty list of sentences (text)")
        return self._tokenizer(
            sentences, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )

    def predict(self, model_input: Any) -> Any:
        """Token embeddings averaged over the real (non-padding) tokens of each sentence."""
        import torch

        with torch.inference_mode():
            tokens = self._encoder(**model_input).last_hidden_state
        mask = model_input["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        return (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)

    def postprocess(self, model_output: Any) -> list[list[float]]:
        """Unit-length vectors, so that a dot product is the cosine similarity."""
        import torch

        vectors = torch.nn.functional.normalize(model_output, p=2.0, dim=1)
        return [[round(x, 6) for x in row] for row in vectors.tolist()]
