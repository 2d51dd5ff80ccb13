"""Types of the compiled ``pmgfast.bayes._tokenizer`` (``ext/bayes_tokenizer.pyx``).

Each function has a pure-Python twin with the same answers: ``tokenizer.tokenize_py``,
``tokenizer.tokenize_text_py``, ``tokenizer.token_id_py`` and ``classifier.combine_py``.
"""

from array import array

from pmgfast.bayes.features import TokenizerInput

MIN_WORD: int
MAX_WORD: int
MAX_TEXT_CHARS: int
MAX_FIELD_CHARS: int

def token_id(token: str) -> int: ...
def tokenize_text(text: str, prefix: str = "", bigrams: bool = True) -> array[int]: ...
def tokenize(features: TokenizerInput) -> array[int]: ...
def tokenize_views(features: TokenizerInput) -> tuple[array[int], array[int]]: ...
def combine(
    spam_counts: array[int],
    ham_counts: array[int],
    nspam: int,
    nham: int,
    strength: float,
    assumed: float,
    min_strength: float,
    max_clues: int,
) -> tuple[float, int]: ...
