"""The token rules of pmgfast.bayes.tokenizer, field by field, on hand-made input.

Each case states the readable tokens the rules promise (``token_strings``), then checks that
the twin and the compiled tokenizer both return exactly their ids.
"""

from __future__ import annotations

from array import array
from itertools import pairwise

import mmh3
import pytest

from pmgfast import native
from pmgfast.bayes import tokenizer
from pmgfast.bayes.features import TokenizerInput
from pmgfast.bayes.tokenizer import token_strings

NO_FROM = "from:none"  # every input without a From address has this token


def _id(token: str) -> int:
    return mmh3.hash64(token.encode("utf-8", "surrogatepass"), seed=0, signed=True)[0]


def _ids(tokens: set[str]) -> array[int]:
    return array("q", sorted({_id(t) for t in tokens}))


def _expect(features: TokenizerInput, tokens: set[str], bayes_native) -> None:
    assert token_strings(features) == tokens
    ids = _ids(tokens)
    assert tokenizer.tokenize_py(features) == ids
    assert bayes_native.tokenize(features) == ids
    text, header = tokenizer.token_views(features)
    assert text | header == tokens and not text & header
    assert tokenizer.tokenize_views_py(features) == (_ids(text), _ids(header))
    assert bayes_native.tokenize_views(features) == (_ids(text), _ids(header))


def test_words_lowercase_length_window_and_bigrams(bayes_native):
    features = TokenizerInput(
        texts=("Buy CHEAP pills at my-store, NOW: a supercalifragilistic deal",)
    )
    _expect(
        features,
        {
            NO_FROM,
            "buy", "cheap", "pills", "store", "now", "deal",
            # "at", "my" and "a" are too short and invisible to bigrams
            "buy cheap", "cheap pills", "pills store", "store now",
            "skip:s 20",  # 23 letters; the skip token breaks the chain, so no "now deal"
        },
        bayes_native,
    )  # fmt: skip


def test_words_are_unicode_word_runs(bayes_native):
    features = TokenizerInput(texts=("Grüße_aus Ωμέγα 😀😀😀 ٣٤٥ x²y",))
    _expect(
        features,
        {
            NO_FROM,
            "grüße_aus", "ωμέγα", "٣٤٥", "x²y",  # \w is str.isalnum() or "_"; emoji are not
            "grüße_aus ωμέγα", "ωμέγα ٣٤٥", "٣٤٥ x²y",
        },
        bayes_native,
    )  # fmt: skip


def test_word_length_limits_are_in_code_points():
    assert tokenizer.MIN_WORD == 3
    assert tokenizer.MAX_WORD == 12
    twelve, thirteen = "é" * 12, "é" * 13
    assert token_strings(TokenizerInput(texts=(f"{twelve} {thirteen}",))) == {
        NO_FROM,
        twelve,
        "skip:é 10",
    }


def test_bigrams_stay_inside_one_text():
    features = TokenizerInput(texts=("first part", "second part"))
    assert token_strings(features) == {
        NO_FROM, "first", "part", "first part", "second", "second part",
    }  # fmt: skip


def test_chinese_runs_give_character_bigrams(bayes_native):
    features = TokenizerInput(texts=("免费代开发票，请联系 王 先生 免费",))
    _expect(
        features,
        {
            NO_FROM,
            "免费", "费代", "代开", "开发", "发票",  # 免费代开发票: overlapping pairs
            "请联", "联系",  # "，" is not \w: it ends the run
            "王",  # a run of one character is itself a token
            "先生",  # and no bigrams between CJK tokens
        },
        bayes_native,
    )  # fmt: skip


def test_japanese_kana_and_kanji_are_one_run(bayes_native):
    features = TokenizerInput(
        texts=("東京都に住んでいます コンピューター ｶﾀｶﾅ",), subject="【重要】お知らせ"
    )
    _expect(
        features,
        {
            NO_FROM,
            "東京", "京都", "都に", "に住", "住ん", "んで", "でい", "いま", "ます",
            "コン", "ンピ", "ピュ", "ュー", "ータ", "ター",  # ー (U+30FC) is Katakana
            "ｶﾀ", "ﾀｶ", "ｶﾅ",  # half-width Katakana
            "subject:重要", "subject:お知", "subject:知ら", "subject:らせ",
        },
        bayes_native,
    )  # fmt: skip


def test_latin_letters_around_a_cjk_run_are_words_of_their_own(bayes_native):
    features = TokenizerInput(
        texts=("Gmail帐号 ab中 hello 中 world abcdefghijklm中文xyz 人々",),
        from_name="Li 李明 Wei",
        uris=("http://example.cn/产品/list",),
    )
    _expect(
        features,
        {
            NO_FROM,
            "gmail", "帐号",  # each piece under the length rules as if alone
            "中",  # "ab" is too short
            "hello", "world",  # the run between them breaks the bigram chain
            "skip:a 10", "中文", "xyz",  # 13 letters before the run: a skip token
            "人",  # 々 is outside the table: a one-character word, dropped
            "from:name:李明", "from:name:wei",
            "url:scheme:http", "url:host:example.cn", "url:host:cn",
            "url:path:产品", "url:path:list",
        },
        bayes_native,
    )  # fmt: skip


def test_hangul_keeps_the_word_rules(bayes_native):
    features = TokenizerInput(texts=("무료 상담 신청하세요 지금바로 신청하세요",))
    _expect(
        features,
        {
            NO_FROM,
            "신청하세요", "지금바로",  # 무료, 상담: two syllables, too short
            "신청하세요 지금바로", "지금바로 신청하세요",
        },
        bayes_native,
    )  # fmt: skip


def test_cjk_ranges_cover_the_promised_blocks():
    ranges = tokenizer.CJK_RANGES
    inside = "ぁゔァヴーㇰ㐀䶵一龥豈ｦﾝ\U00020000\U0002a6d6\U00030000"
    outside = "가힣々〇\u3000\uff10Ａａ\u2e80"  # Hangul, CJK symbols, full-width Latin
    for ch in inside:
        assert any(a <= ord(ch) <= b for a, b in ranges), hex(ord(ch))
    for ch in outside:
        assert not any(a <= ord(ch) <= b for a, b in ranges), hex(ord(ch))
    assert list(ranges) == sorted(ranges)
    assert all(a <= b < c for (a, b), (c, _) in pairwise(ranges))


def test_subject_and_display_name(bayes_native):
    features = TokenizerInput(subject="Re: FREE Money!!!", from_name="Dr. John Smith")
    _expect(
        features,
        {
            NO_FROM,
            "subject:free", "subject:money", "subject:free money",
            "from:name:john", "from:name:smith",  # display names have no bigrams
        },
        bayes_native,
    )  # fmt: skip


def test_from_address_and_domain_pieces(bayes_native):
    features = TokenizerInput(from_addr="  Joe.Bloggs@Mail.Example.CO.UK. ")
    _expect(
        features,
        {
            "from:addr:joe.bloggs@mail.example.co.uk.",
            "from:domain:mail.example.co.uk",
            "from:domain:example.co.uk",
            "from:domain:co.uk",
            "from:domain:uk",
        },
        bayes_native,
    )


def test_received_hops_give_ip_prefixes_and_hosts(bayes_native):
    hop = (
        "from mail.Example.com (mail.example.com [192.0.2.17]) by mx-1.test.org.\n"
        "\t(8.12.11/8.12.11) with ESMTP id g2R5cAg29422 for <jm@jmason.org>; 27 Mar 2002"
    )
    _expect(
        TokenizerInput(received=(hop,)),
        {
            NO_FROM,
            "received:host:mail.example.com", "received:host:example.com", "received:host:com",
            "received:ip:192", "received:ip:192.0", "received:ip:192.0.2",
            "received:ip:192.0.2.17",
            "received:host:mx-1.test.org", "received:host:test.org", "received:host:org",
            "received:host:jmason.org",
            # "8.12.11" is a version number: its last label is not letters
        },
        bayes_native,
    )  # fmt: skip


def test_received_ignores_runs_that_are_not_hosts():
    hop = "from a..b.com (1.2.3.4.5) by x.c0m; 300.1.2.3 .-.; localhost"
    assert token_strings(TokenizerInput(received=(hop,))) == {
        NO_FROM,
        "received:ip:300", "received:ip:300.1", "received:ip:300.1.2", "received:ip:300.1.2.3",
    }  # fmt: skip


def test_part_headers(bayes_native):
    features = TokenizerInput(
        content_types=("Text/HTML; charset=UTF-8", "multipart/alternative", " ; x"),
        charsets=(" UTF-8 ", ""),
        header_names=("X-Mailer", "Message-ID", "  "),
    )
    _expect(
        features,
        {
            NO_FROM,
            "ct:text/html", "ct:multipart/alternative",
            "charset:utf-8",
            "header:x-mailer", "header:message-id",
        },
        bayes_native,
    )  # fmt: skip


def test_url_pieces(bayes_native):
    features = TokenizerInput(
        uris=(
            "HTTP://user:pw@WWW.Spam.example.COM:8080/Path/to/index.html?id=123#frag",
            "https://192.0.2.1/x",
            "mailto:Sales@Shop.Example.net?subject=hello",
            "www.Example.org",
            "ftp://[2001:db8::1]/pub",
        )
    )
    _expect(
        features,
        {
            NO_FROM,
            "url:scheme:http", "url:port:8080",
            "url:host:www.spam.example.com", "url:host:spam.example.com",
            "url:host:example.com", "url:host:com",
            "url:path:path", "url:path:index", "url:path:html",  # "to" is too short
            "url:scheme:https",
            "url:ip:192", "url:ip:192.0", "url:ip:192.0.2", "url:ip:192.0.2.1",
            "url:scheme:mailto", "url:mailto:shop.example.net", "url:mailto:example.net",
            "url:mailto:net",
            "url:host:www.example.org", "url:host:example.org", "url:host:org",
            "url:scheme:ftp", "url:ipv6", "url:path:pub",
        },
        bayes_native,
    )  # fmt: skip


def test_header_names_added_on_the_way_make_no_tokens(bayes_native):
    """Delivery, mailing-list, scanner and mail-client headers say where a message was
    collected, not what it is: only headers the sender wrote are tokens."""
    features = TokenizerInput(
        header_names=(
            "X-Mailer",
            "Message-ID",
            "X-MSMail-Priority",
            "Date",
            "Received",
            "Return-Path",
            "Delivered-To",
            "X-Original-To",
            "Precedence",
            "List-Id",
            "List-Unsubscribe",
            "X-List-Help",
            "X-Beenthere",
            "X-Mailman-Version",
            "Errors-To",
            "Sender",
            "X-Spam-Status",
            "X-Spam-Level",
            "X-Virus-Scanned",
            "Status",
            "X-Status",
            "X-Keywords",
            "X-UID",
            "X-VM-Labels",
            " LIST-POST ",
        )
    )
    _expect(
        features,
        {
            NO_FROM,
            "header:x-mailer", "header:message-id", "header:x-msmail-priority", "header:date",
        },
        bayes_native,
    )  # fmt: skip
    assert tokenizer.header_name_kept(" X-Mailer ") == "x-mailer"
    assert tokenizer.header_name_kept("List-Archive") == ""


def test_views_split_text_from_headers(bayes_native):
    """The text view holds what the message says and in what form, the header view who sent
    it, through where and with what software."""
    features = TokenizerInput(
        subject="Cheap offer",
        from_addr="Bob@Example.com",
        from_name="Bob",
        received=("from relay.example.net ([192.0.2.1])",),
        content_types=("text/plain",),
        charsets=("utf-8",),
        header_names=("X-Mailer",),
        texts=("buy now",),
        uris=("http://shop.example/deal",),
    )
    text, header = tokenizer.token_views(features)
    assert text == {
        "buy", "now", "buy now", "subject:cheap", "subject:offer", "subject:cheap offer",
        "url:scheme:http", "url:host:shop.example", "url:host:example", "url:path:deal",
        "ct:text/plain", "charset:utf-8",
    }  # fmt: skip
    assert header == {
        "from:addr:bob@example.com", "from:domain:example.com", "from:domain:com",
        "from:name:bob",
        "received:host:relay.example.net", "received:host:example.net", "received:host:net",
        "received:ip:192", "received:ip:192.0", "received:ip:192.0.2", "received:ip:192.0.2.1",
        "header:x-mailer",
    }  # fmt: skip
    _expect(features, text | header, bayes_native)
    assert bayes_native.tokenize_views(TokenizerInput()) == (array("q"), _ids({NO_FROM}))


def test_ids_are_sorted_unique_int64(bayes_native):
    features = TokenizerInput(texts=("spam spam spam eggs spam",), subject="spam spam")
    ids = bayes_native.tokenize(features)
    assert isinstance(ids, array) and ids.typecode == "q"
    assert list(ids) == sorted(set(ids))
    assert len(ids) == len(token_strings(features))


def test_empty_input_has_only_the_no_sender_token(bayes_native):
    assert bayes_native.tokenize(TokenizerInput()) == array("q", [_id(NO_FROM)])
    assert bayes_native.tokenize_text("") == array("q")


def test_tokenize_text_with_prefix(bayes_native):
    expected = array("q", sorted({_id(t) for t in ("note:hello", "note:world")}))
    assert bayes_native.tokenize_text("Hello, World", "note:", False) == expected
    assert tokenizer.tokenize_text_py("Hello, World", "note:", False) == expected


def test_long_fields_are_cut(bayes_native):
    text = "word " * (tokenizer.MAX_TEXT_CHARS // 5) + "beyond"
    assert "beyond" not in token_strings(TokenizerInput(texts=(text,)))
    assert bayes_native.tokenize(TokenizerInput(texts=(text,))) == tokenizer.tokenize_py(
        TokenizerInput(texts=(text,))
    )
    subject = "x" * (tokenizer.MAX_FIELD_CHARS - 1) + " tail"
    assert "subject:tail" not in token_strings(TokenizerInput(subject=subject))


@pytest.mark.parametrize(
    "features",
    [
        TokenizerInput(texts=(b"bytes",)),  # type: ignore[arg-type]
        TokenizerInput(subject=None),  # type: ignore[arg-type]
        TokenizerInput(from_addr=b""),  # type: ignore[arg-type]
        TokenizerInput(uris=(1,)),  # type: ignore[arg-type]
    ],
)
def test_fields_that_are_not_str_raise_type_error(bayes_native, features):
    for tokenize in (bayes_native.tokenize, tokenizer.tokenize_py):
        with pytest.raises(TypeError, match="tokenizer fields hold str"):
            tokenize(features)


def test_str_subclasses_are_str(bayes_native):
    class Text(str):
        pass

    features = TokenizerInput(texts=(Text("hello world"),), uris=(Text("http://a.example/x"),))
    assert bayes_native.tokenize(features) == tokenizer.tokenize_py(features)
    assert bayes_native.token_id(Text("abc")) == tokenizer.token_id_py("abc")


def test_constants_agree(bayes_native):
    for name in ("MIN_WORD", "MAX_WORD", "MAX_TEXT_CHARS", "MAX_FIELD_CHARS"):
        assert getattr(bayes_native, name) == getattr(tokenizer, name)


def test_dispatch_uses_the_compiled_tokenizer_unless_pure():
    expected = "python" if native.NO_EXTENSIONS else "cython"
    assert expected == tokenizer.IMPLEMENTATION
