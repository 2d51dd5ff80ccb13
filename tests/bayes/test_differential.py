"""The compiled tokenizer and the pure twin give identical ids: on every message of the corpus
and on generated input full of the characters where they could part ways.

The generated text mixes URL and address syntax with characters that stress the rules: astral
letters and emoji, lone surrogates (what ``surrogateescape`` decoding leaves), letters whose
lowercase is longer (``İ``) or depends on context (final ``Σ``), Unicode digits and white
space, NBSP and the ASCII separators ``str.strip()`` also removes; and Chinese, Japanese and
Korean text, with the code points on both sides of every edge of ``tokenizer.CJK_RANGES``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import mmh3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmgfast.bayes import tokenizer
from pmgfast.bayes.features import TokenizerInput

FRAGMENTS = [
    "http://", "https://", "HTTP://", "mailto:", "://", "@", ".", "..", ":", "/", "?", "#",
    "[", "]", "-", "_", " ", "\t", "\n", "\r\n", "\u00a0", "\u2003", "\x1c", "\x85",
    "www.", "Example.COM", "mail.example.co.uk", "192.168.0.1", "10.0.0.300", "1.2.3",
    "8.12.11", "[2001:db8::1]", ":8080", "user:pw@", "/path/to/file.html", "?q=1", "#frag",
    "İstanbul", "ΑΣ", "Σ", "ς", "ß", "ǅ", "ﬃ", "K", "Ⅻ", "٣٤٥", "x²", "ÀÉÎÕÜ",
    "\udc80", "\udcff", "\ud800", "😀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𐐀𐐁", "中文字符", "a", "ab", "abc",
    "word", "WORD", "twelve_chars", "thirteenchars", "supercalifragilistic",
    "List-Id", "X-Spam-Flag", "received", " X-Keywords ", "X-Mailer", "İ",
    "東京都に住んでいます", "コンピューター", "ｶﾀｶﾅ", "【重要】", "、", "人々", "한국어 텍스트",
    "Gmail帐号", "abcdefghijklm中文xyz", "\U00020000\U0002a6d6", "\u30fb", "\u309b",
]  # fmt: skip

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
astral = st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=())
cjk_char = st.one_of(
    [st.characters(min_codepoint=a - 1, max_codepoint=a + 1) for a, _ in tokenizer.CJK_RANGES]
    + [st.characters(min_codepoint=b - 1, max_codepoint=b + 1) for _, b in tokenizer.CJK_RANGES]
    + [st.characters(min_codepoint=0x3000, max_codepoint=0x9FFF)]  # kana, kanji, symbols
    + [st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3)]  # Hangul syllables
)
cjk = st.lists(
    st.one_of(st.text(cjk_char, min_size=1, max_size=8), st.sampled_from(FRAGMENTS)),
    max_size=16,
).map("".join)
piece = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(cjk_char, min_size=1, max_size=8),
    st.text(any_char, max_size=6),
    st.text(astral, min_size=1, max_size=4),
    st.text(st.sampled_from("abcXYZ019_"), min_size=1, max_size=16),
)
text = st.lists(piece, max_size=24).map("".join)
texts = st.lists(text, max_size=3).map(tuple)

features = st.builds(
    TokenizerInput,
    subject=text,
    from_addr=text,
    from_name=text,
    received=texts,
    content_types=texts,
    charsets=texts,
    header_names=texts,
    texts=texts,
    uris=st.lists(text, max_size=5).map(tuple),
)

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(features)
def test_generated_input(bayes_native, features):
    assert bayes_native.tokenize(features) == tokenizer.tokenize_py(features)
    assert bayes_native.tokenize_views(features) == tokenizer.tokenize_views_py(features)


@SETTINGS
@given(text, st.sampled_from(["", "subject:", "ü:", "😀"]), st.booleans())
def test_generated_text(bayes_native, text, prefix, bigrams):
    assert bayes_native.tokenize_text(text, prefix, bigrams) == tokenizer.tokenize_text_py(
        text, prefix, bigrams
    )


def _cjk(ch: str) -> bool:
    """A word character in ``tokenizer.CJK_RANGES``."""
    return ch.isalnum() and any(a <= ord(ch) <= b for a, b in tokenizer.CJK_RANGES)


@SETTINGS
@given(st.lists(cjk, max_size=3).map(tuple), cjk, st.lists(cjk, max_size=2).map(tuple))
def test_generated_cjk_text(bayes_native, texts, subject, uris):
    """Chinese, Japanese and Korean text mixed with the other fragments: both tokenizers agree,
    and a body token with a CJK character is one or two CJK characters."""
    features = TokenizerInput(texts=texts, subject=subject, uris=uris)
    assert bayes_native.tokenize(features) == tokenizer.tokenize_py(features)
    assert bayes_native.tokenize_views(features) == tokenizer.tokenize_views_py(features)
    for token in tokenizer.token_strings(TokenizerInput(texts=texts)):
        if any(map(_cjk, token)):
            assert len(token) <= 2 and all(map(_cjk, token)), token


@SETTINGS
@given(st.text(any_char, max_size=80))
def test_token_id_is_mmh3(bayes_native, token):
    expected = mmh3.hash64(token.encode("utf-8", "surrogatepass"), seed=0, signed=True)[0]
    assert bayes_native.token_id(token) == expected == tokenizer.token_id_py(token)


def test_token_id_every_tail_length(bayes_native):
    """Keys of 0 to 80 bytes cover every tail case of MurmurHash3 x64_128 several times."""
    for n in range(81):
        token = "".join(chr(0x21 + (i * 7) % 90) for i in range(n))
        assert bayes_native.token_id(token) == mmh3.hash64(token.encode(), seed=0, signed=True)[0]


def test_spamassassin_corpus(bayes_native, spamassassin):
    """Every message of ../shared/corpus/spamassassin (3,654 of them)."""
    assert len(spamassassin) == 3654
    differ = [
        name
        for _, name, features in spamassassin
        if bayes_native.tokenize(features) != tokenizer.tokenize_py(features)
        or bayes_native.tokenize_views(features) != tokenizer.tokenize_views_py(features)
    ]
    assert differ == []


def test_mime_edge_cases(bayes_native, mime_edge_cases):
    """Malformed and unusual MIME messages: both agree, neither raises."""
    assert len(mime_edge_cases) > 500
    differ = [
        name
        for name, features in mime_edge_cases
        if bayes_native.tokenize(features) != tokenizer.tokenize_py(features)
    ]
    assert differ == []


def test_threads(bayes_native, spamassassin):
    """Texts over 4,096 characters are scanned with the GIL released: concurrent calls still
    give the answers of serial ones."""
    inputs = [f for _, _, f in spamassassin if max(map(len, f.texts), default=0) > 4096][:300]
    assert len(inputs) > 100
    serial = [tokenizer.tokenize_py(f) for f in inputs]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(bayes_native.tokenize, inputs)) == serial


def _words_with_top_bits(bits: int, count: int) -> list[str]:
    """Distinct words whose ids share their top ``bits`` bits (in signed order)."""
    words = []
    i = 0
    while len(words) < count:
        word = f"w{i:06d}"
        i += 1
        key = mmh3.hash64(word.encode(), seed=0, signed=False)[0] ^ (1 << 63)
        if key >> (64 - bits) == 0:
            words.append(word)
    return words


def test_ids_that_share_their_top_bits_are_still_sorted(bayes_native):
    """40 ids, each twice, in one first-pass bucket (a first digit of 6 bits for 80 ids):
    the radix sort's recursion and its exit for a bucket of one repeated id."""
    text = " ".join(_words_with_top_bits(6, 40))
    ids = bayes_native.tokenize_text(text + " " + text, "", False)
    assert len(ids) == 40
    assert ids == tokenizer.tokenize_text_py(text, "", False)


def test_many_distinct_tokens(bayes_native):
    """Over 2**16 distinct ids: the widest first radix digit."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    words = [a + b + c for a in alphabet for b in alphabet for c in alphabet]  # 46,656
    text = " ".join(words)
    assert len(text) < tokenizer.MAX_TEXT_CHARS
    ids = bayes_native.tokenize_text(text)
    assert len(ids) == 2 * len(words) - 1 > 2**16  # words and bigrams
    assert ids == tokenizer.tokenize_text_py(text)
