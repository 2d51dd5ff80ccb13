"""How a native walk is compared with the pure twin (differential tests, benchmarks).

Compared per part: every field but the byte offsets (the stdlib cannot see offsets), and the
decoded body; per message: defects (as a sorted list), URIs and domains.

Deliberate differences, tolerated here and nowhere else:

- ``text``/``html_text`` of parts in a multi-byte CJK charset (:data:`CJK`): the native walk
  decodes with ``encoding_rs`` (the WHATWG decoders), the twin with CPython's codecs. They agree
  on valid text except for a few vendor code points (e.g. Big5 0xA1E3 is U+FF5E for WHATWG and
  U+223C for Python's big5hkscs), and they emit different numbers of U+FFFD for malformed
  sequences. Such text may differ when its length is the same or a ``CharsetDecodeDefect``
  was recorded.
"""

from __future__ import annotations

from pmgfast.mime import Message, Part

OFFSETS = ("header_start", "body_start", "body_end")
FIELDS = tuple(f for f in Part._fields if f not in OFFSETS)

CJK = (
    "gbk",
    "gb2312",
    "gb18030",
    "big5",
    "shift_jis",
    "sjis",
    "euc-jp",
    "euc-kr",
    "iso-2022-jp",
    "x-sjis",
    "ks_c_5601-1987",
    "cp932",
    "windows-31j",
    "x-euc-jp",
    "csshiftjis",
    "ms_kanji",
    "cp936",
    "x-gbk",
    "big5-hkscs",
    "cn-big5",
    "euc-cn",
)


def _cjk(part: Part) -> bool:
    return (part.charset or "").strip() in CJK


def differences(a: Message, b: Message) -> list[str]:
    """Human-readable differences between two walks of the same message (empty: agree)."""
    out: list[str] = []
    if len(a.parts) != len(b.parts):
        out.append(f"part count {len(a.parts)} != {len(b.parts)}")
    for pa, pb in zip(a.parts, b.parts, strict=False):
        decode_defect = any(
            d.aid == pa.aid and d.kind == "CharsetDecodeDefect" for d in a.defects + b.defects
        )
        for f in FIELDS:
            va, vb = getattr(pa, f), getattr(pb, f)
            if va != vb:
                if (
                    f in ("text", "html_text")
                    and _cjk(pa)
                    and (decode_defect or len(va) == len(vb))
                ):
                    continue
                out.append(f"aid {pa.aid} {f}: {va!r:.200} != {vb!r:.200}")
        if pa.is_leaf and a.body(pa.aid) != b.body(pb.aid):
            out.append(f"aid {pa.aid} body differs")
    da = sorted(a.defects)
    db = sorted(b.defects)
    if da != db:
        out.append(f"defects {da} != {db}")
    if a.uris != b.uris:
        out.append(f"uris {a.uris[:5]} != {b.uris[:5]}")
    if a.domains != b.domains:
        out.append(f"domains {a.domains[:5]} != {b.domains[:5]}")
    return out
