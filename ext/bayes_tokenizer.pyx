# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, embedsignature=True, autotestdict=False
"""Compiled twin of ``pmgfast.bayes.tokenizer`` (the token rules are in that module's
docstring) and of the combiner of ``pmgfast.bayes.classifier``.

Built by ``setup.py`` as ``pmgfast.bayes._tokenizer`` and loaded through
``pmgfast.native.load``. The pure twins are the reference: every function here returns exactly
what its twin returns, which ``tests/bayes`` checks on the corpus and on generated input.

How it is fast: fields are read straight from the ``str`` buffers (one-byte text is lowercased
on the fly through a table, other text by ``str.lower()``), each token is assembled as UTF-8
in a scratch buffer and hashed in C, so no Python object is made per token; long texts are
scanned with the GIL released (CJK runs are found through a bit table of the BMP built from
the twin's ``CJK_RANGES``); ids are radix-sorted, deduplicated and copied into one
``array('q')``.
"""

from libc.stdint cimport int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove, memset, strlen
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.math cimport exp, fabs, frexp, log
from cpython.array cimport array, clone

cdef extern from "Python.h":
    Py_UCS4 PyUnicode_READ(int kind, const void *data, Py_ssize_t index) nogil
    int PyUnicode_KIND(object o)
    const void *PyUnicode_DATA(object o)
    bint Py_UNICODE_ISALNUM(Py_UCS4 ch) nogil
    bint Py_UNICODE_ISSPACE(Py_UCS4 ch) nogil

include "bayes_murmur3.pxi"  # the token id hash, MurmurHash3 x64_128 in C
include "bayes_ids.pxi"      # collecting ids: scratch buffers, sort, dedupe, array('q')
include "bayes_combiner.pxi" # the chi-squared combiner's hot loop (classifier twin)

cdef enum:
    MIN_WORD_C = 3
    MAX_WORD_C = 12
    WORD_BYTES = 48  # MAX_WORD_C code points of at most 4 UTF-8 bytes
    MAX_TEXT_CHARS_C = 200000
    MAX_FIELD_CHARS_C = 2048

# The twin's constants, exported so that tests/bayes can compare them.
MIN_WORD = MIN_WORD_C
MAX_WORD = MAX_WORD_C
MAX_TEXT_CHARS = MAX_TEXT_CHARS_C
MAX_FIELD_CHARS = MAX_FIELD_CHARS_C

cdef uint8_t _LOWER_LATIN1[256]  # str.lower() of U+0000..U+00FF (which stays in that range)
cdef uint8_t _WORD_LATIN1[256]  # whether U+0000..U+00FF matches re's \w
cdef uint8_t _WORD_BMP[8192]  # bit c: whether U+0000..U+FFFF code point c matches re's \w
cdef int _fill_tables() except -1:
    cdef uint32_t c
    for c in range(256):
        _LOWER_LATIN1[c] = ord(chr(c).lower())
        _WORD_LATIN1[c] = Py_UNICODE_ISALNUM(<Py_UCS4>c) or c == 0x5F
    memset(_WORD_BMP, 0, sizeof(_WORD_BMP))
    for c in range(0x10000):
        if Py_UNICODE_ISALNUM(<Py_UCS4>c) or c == 0x5F:
            _WORD_BMP[c >> 3] |= <uint8_t>(1 << (c & 7))
    return 0
_fill_tables()

# tokenizer.CJK_RANGES, read on first use (the twin's table; tokenizer imports this module):
# bit c of _CJK_BMP is set when U+0000..U+FFFF code point c is in a range and matches \w; the
# ranges beyond the BMP are kept as they are. Below _cjk_min nothing is CJK.
cdef uint8_t _CJK_BMP[8192]
cdef enum:
    MAX_CJK_ASTRAL = 16
cdef uint32_t _cjk_astral[MAX_CJK_ASTRAL][2]
cdef int _n_cjk_astral = 0
cdef uint32_t _cjk_min = 0x110000
cdef bint _cjk_loaded = False


cdef int _load_cjk() except -1:
    global _n_cjk_astral, _cjk_min, _cjk_loaded
    from pmgfast.bayes.tokenizer import CJK_RANGES
    cdef uint32_t c, first, last
    if _cjk_loaded:  # by another thread while the import let it run; tables may be in use
        return 0
    # (from here on nothing lets another thread run until the tables are complete)
    memset(_CJK_BMP, 0, sizeof(_CJK_BMP))
    _n_cjk_astral = 0
    for first, last in CJK_RANGES:
        if not first <= last <= 0x10FFFF:
            raise ValueError(f"bad CJK range {first:#x}-{last:#x}")
        _cjk_min = min(_cjk_min, first)
        for c in range(first, min(last, 0xFFFF) + 1):
            if _is_word(c):
                _CJK_BMP[c >> 3] |= <uint8_t>(1 << (c & 7))
        if last > 0xFFFF:
            if _n_cjk_astral == MAX_CJK_ASTRAL:
                raise ValueError("too many CJK ranges beyond the BMP")
            _cjk_astral[_n_cjk_astral][0] = max(first, 0x10000)
            _cjk_astral[_n_cjk_astral][1] = last
            _n_cjk_astral += 1
    _cjk_loaded = True
    return 0


# --- reading lowercased text -------------------------------------------------------------------
#
# A field is cut to its length limit and lowercased: one-byte (Latin-1) strings are lowercased
# while they are read, code unit by code unit through _LOWER_LATIN1 (that is exactly what
# str.lower() does to them, and it is idempotent), wider strings by str.lower() beforehand.
# Stripping whitespace after lowercasing equals the twin's strip-then-lower: lowercasing never
# makes or unmakes white space.

cdef inline str _text(object value):
    """A field value as an exact ``str``: a subclass is copied, anything else is a TypeError
    (as in the twin)."""
    if type(value) is str:
        return <str>value
    if isinstance(value, str):
        return str.__str__(value)
    raise TypeError(f"tokenizer fields hold str, not {type(value).__name__}")


cdef inline str _lowered(str value, Py_ssize_t limit):
    """``value[:limit]``, lowercased unless it is one-byte text (lowercased when read)."""
    value = value[:limit]
    return value if PyUnicode_KIND(value) == 1 else value.lower()


cdef inline Py_UCS4 _cp(int kind, const void *data, Py_ssize_t i) noexcept nogil:
    """The lowercased code point ``i`` of a ``_lowered`` string."""
    if kind == 1:
        return _LOWER_LATIN1[(<const uint8_t *>data)[i]]
    return PyUnicode_READ(kind, data, i)


cdef inline void _strip(int kind, const void *data, Py_ssize_t *a, Py_ssize_t *b) noexcept nogil:
    """Narrow [a, b) of a ``_lowered`` string past white space at both ends (``str.strip()``)."""
    while a[0] < b[0] and Py_UNICODE_ISSPACE(_cp(kind, data, a[0])):
        a[0] += 1
    while b[0] > a[0] and Py_UNICODE_ISSPACE(_cp(kind, data, b[0] - 1)):
        b[0] -= 1


cdef Py_ssize_t _find(int kind, const void *data, Py_ssize_t a, Py_ssize_t b,
                      Py_UCS4 ch) noexcept nogil:
    """The first index of ``ch`` in [a, b), or -1."""
    cdef Py_ssize_t i
    for i in range(a, b):
        if _cp(kind, data, i) == ch:
            return i
    return -1


cdef Py_ssize_t _rfind(int kind, const void *data, Py_ssize_t a, Py_ssize_t b,
                       Py_UCS4 ch) noexcept nogil:
    """The last index of ``ch`` in [a, b), or -1."""
    cdef Py_ssize_t i
    for i in range(b - 1, a - 1, -1):
        if _cp(kind, data, i) == ch:
            return i
    return -1


cdef inline Py_ssize_t _put_utf8(char *p, uint32_t ch) noexcept nogil:
    """Write one code point as UTF-8 (a surrogate in its three-byte form, as the twin's
    ``surrogatepass``); return the bytes written."""
    if ch < 0x80:
        p[0] = <char>ch
        return 1
    if ch < 0x800:
        p[0] = <char>(0xC0 | (ch >> 6))
        p[1] = <char>(0x80 | (ch & 0x3F))
        return 2
    if ch < 0x10000:
        p[0] = <char>(0xE0 | (ch >> 12))
        p[1] = <char>(0x80 | ((ch >> 6) & 0x3F))
        p[2] = <char>(0x80 | (ch & 0x3F))
        return 3
    p[0] = <char>(0xF0 | (ch >> 18))
    p[1] = <char>(0x80 | ((ch >> 12) & 0x3F))
    p[2] = <char>(0x80 | ((ch >> 6) & 0x3F))
    p[3] = <char>(0x80 | (ch & 0x3F))
    return 4


cdef Py_ssize_t _encode(Sink *s, int kind, const void *data, Py_ssize_t a,
                        Py_ssize_t b) noexcept nogil:
    """Code points [a, b) as UTF-8 into the aux buffer; their length in bytes, -1 when OOM."""
    cdef Py_ssize_t i, q = 0
    if _grow(&s.aux, &s.auxcap, 4 * (b - a) + 1) < 0:
        return -1
    for i in range(a, b):
        q += _put_utf8(s.aux + q, _cp(kind, data, i))
    return q


cdef int _emit_range(Sink *s, const char *prefix, int kind, const void *data, Py_ssize_t a,
                     Py_ssize_t b) noexcept nogil:
    """Add the id of ``prefix`` + code points [a, b)."""
    cdef Py_ssize_t q = _encode(s, kind, data, a, b)
    if q < 0:
        return -1
    return _emit_bytes(s, prefix, <Py_ssize_t>strlen(prefix), s.aux, q)


cdef int _emit_stripped(Sink *s, const char *prefix, str value, Py_ssize_t limit,
                        Py_UCS4 stop) except -1:
    """Add ``prefix`` + the lowercased ``value`` up to the first ``stop`` (0: none), stripped of
    white space, unless that is empty."""
    cdef str low = _lowered(value, limit)
    cdef int kind = PyUnicode_KIND(low)
    cdef const void *data = PyUnicode_DATA(low)
    cdef Py_ssize_t a = 0, b = len(low), i
    if stop:
        i = _find(kind, data, 0, b, stop)
        if i >= 0:
            b = i
    _strip(kind, data, &a, &b)
    if a < b and _emit_range(s, prefix, kind, data, a, b) < 0:
        raise MemoryError()
    return 0


# --- words -------------------------------------------------------------------------------------

ctypedef fused code_unit:  # the three storage kinds of a str (PEP 393)
    uint8_t
    uint16_t
    uint32_t


cdef inline bint _is_word(uint32_t ch) noexcept nogil:
    """``re``'s ``\\w``: ``str.isalnum()`` or an underscore."""
    if ch < 0x100:
        return _WORD_LATIN1[ch]
    if ch < 0x10000:
        return (_WORD_BMP[ch >> 3] >> (ch & 7)) & 1
    return Py_UNICODE_ISALNUM(<Py_UCS4>ch)


cdef inline bint _is_cjk(uint32_t ch) noexcept nogil:
    """Whether ``ch`` is a word character in ``tokenizer.CJK_RANGES`` (after ``_load_cjk``)."""
    cdef int k
    if ch < _cjk_min:
        return False
    if ch < 0x10000:
        return (_CJK_BMP[ch >> 3] >> (ch & 7)) & 1
    for k in range(_n_cjk_astral):
        if _cjk_astral[k][0] <= ch <= _cjk_astral[k][1]:
            return _is_word(ch)
    return False


cdef inline Py_ssize_t _put_decimal(char *p, Py_ssize_t v) noexcept nogil:
    cdef char digits[24]
    cdef Py_ssize_t n = 0, i
    while True:
        digits[n] = <char>(c'0' + v % 10)
        n += 1
        v //= 10
        if v == 0:
            break
    for i in range(n):
        p[i] = digits[n - 1 - i]
    return n


cdef int _scan_words(Sink *s, const code_unit *data, Py_ssize_t length,
                     const char *prefix, Py_ssize_t plen, bint bigrams) noexcept nogil:
    """The word rule over the code units of a ``_lowered`` string.

    The scratch buffer holds two tokens under construction: ``prefix word`` (the word is
    encoded in place while it is scanned; in a CJK run, the pair of its last two characters)
    and ``prefix previous-word ' ' word``. One-byte text holds no CJK characters."""
    cdef Py_ssize_t i = 0, nchars, curlen, firstlen = 0, prevlen = -1, lastlen
    cdef uint32_t ch
    cdef char first[4]
    cdef char *w
    cdef char *g
    cdef char *cur
    cdef char *p
    if _grow(&s.buf, &s.bufcap, 2 * plen + 3 * WORD_BYTES + 64) < 0:
        return -1
    w = s.buf
    g = s.buf + plen + WORD_BYTES + 32
    cur = w + plen
    memcpy(w, prefix, plen)
    memcpy(g, prefix, plen)
    while i < length:
        if code_unit is uint8_t:
            ch = _LOWER_LATIN1[data[i]]
        else:
            ch = data[i]
        if not _is_word(ch):
            i += 1
            continue
        if code_unit is not uint8_t:
            if _is_cjk(ch):  # a CJK run: each pair of neighbours, or its one character
                lastlen = _put_utf8(cur, ch)
                nchars = 1
                i += 1
                while i < length:
                    ch = data[i]
                    if not _is_cjk(ch):
                        break
                    curlen = _put_utf8(cur + lastlen, ch)
                    if _emit(s, w, plen + lastlen + curlen) < 0:
                        return -1
                    memmove(cur, cur + lastlen, curlen)
                    lastlen = curlen
                    nchars += 1
                    i += 1
                if nchars == 1 and _emit(s, w, plen + lastlen) < 0:
                    return -1
                prevlen = -1
                continue
        nchars = 0
        curlen = 0
        while True:
            if nchars < MAX_WORD_C:
                curlen += _put_utf8(cur + curlen, ch)
                if nchars == 0:
                    firstlen = curlen
            nchars += 1
            i += 1
            if i >= length:
                break
            if code_unit is uint8_t:
                ch = _LOWER_LATIN1[data[i]]
            else:
                ch = data[i]
            if not _is_word(ch):
                break
            if code_unit is not uint8_t:
                if _is_cjk(ch):  # the word ends where a CJK run starts
                    break
        if nchars < MIN_WORD_C:
            continue
        if nchars > MAX_WORD_C:  # skip:<first char> <length rounded down to tens>
            memcpy(first, cur, firstlen)
            p = cur
            memcpy(p, b"skip:", 5)
            p += 5
            memcpy(p, first, firstlen)
            p += firstlen
            p[0] = c' '
            p += 1
            p += _put_decimal(p, nchars // 10 * 10)
            if _emit(s, w, p - w) < 0:
                return -1
            prevlen = -1
            continue
        if _emit(s, w, plen + curlen) < 0:
            return -1
        if bigrams:  # (copies of a fixed WORD_BYTES compile to a few moves; there is room)
            if prevlen >= 0:
                memcpy(g + plen + prevlen + 1, cur, WORD_BYTES)
                if _emit(s, g, plen + prevlen + 1 + curlen) < 0:
                    return -1
            memcpy(g + plen, cur, WORD_BYTES)
            g[plen + curlen] = c' '
            prevlen = curlen
    return 0


cdef int _scan_range(Sink *s, int kind, const void *data, Py_ssize_t a, Py_ssize_t b,
                     const char *prefix, Py_ssize_t plen, bint bigrams) noexcept nogil:
    """The word rule over code points [a, b) of a ``_lowered`` string."""
    if kind == 1:
        return _scan_words(s, <const uint8_t *>data + a, b - a, prefix, plen, bigrams)
    if kind == 2:
        return _scan_words(s, <const uint16_t *>data + a, b - a, prefix, plen, bigrams)
    return _scan_words(s, <const uint32_t *>data + a, b - a, prefix, plen, bigrams)


cdef int _words(Sink *s, str text, Py_ssize_t limit, bytes prefix, bint bigrams) except -1:
    """Add the word tokens of the first ``limit`` code points of ``text``."""
    cdef str low = _lowered(text, limit)
    cdef int kind = PyUnicode_KIND(low)
    cdef const void *data = PyUnicode_DATA(low)
    cdef Py_ssize_t n = len(low)
    cdef const char *pre = prefix
    cdef Py_ssize_t plen = len(prefix)
    cdef int rc
    if not _cjk_loaded:
        _load_cjk()
    if n > 4096:  # long enough to let other threads run meanwhile
        with nogil:
            rc = _scan_range(s, kind, data, 0, n, pre, plen, bigrams)
    else:
        rc = _scan_range(s, kind, data, 0, n, pre, plen, bigrams)
    if rc < 0:
        raise MemoryError()
    return 0


# --- hosts and addresses -----------------------------------------------------------------------

cdef bint _is_ipv4(const char *h, Py_ssize_t n) noexcept nogil:
    """Four dot-separated groups of 1-3 ASCII digits."""
    cdef Py_ssize_t i, labels = 1, run = 0
    for i in range(n):
        if h[i] == c'.':
            if run == 0:
                return False
            labels += 1
            run = 0
        elif c'0' <= h[i] <= c'9':
            run += 1
            if run > 3:
                return False
        else:
            return False
    return labels == 4 and run > 0


cdef int _ip_pieces(Sink *s, const char *prefix, const char *h, Py_ssize_t n) noexcept nogil:
    """The 1- to 4-octet prefixes of a dotted quad."""
    cdef Py_ssize_t i, plen = <Py_ssize_t>strlen(prefix)
    for i in range(n):
        if h[i] == c'.' and _emit_bytes(s, prefix, plen, h, i) < 0:
            return -1
    return _emit_bytes(s, prefix, plen, h, n)


cdef int _host_pieces(Sink *s, const char *prefix, const char *h, Py_ssize_t n) noexcept nogil:
    """The host and every suffix of it after a dot (``h`` has no dot at either end)."""
    cdef Py_ssize_t i, plen = <Py_ssize_t>strlen(prefix)
    if _emit_bytes(s, prefix, plen, h, n) < 0:
        return -1
    for i in range(n):
        if h[i] == c'.' and _emit_bytes(s, prefix, plen, h + i + 1, n - i - 1) < 0:
            return -1
    return 0


cdef int _host(Sink *s, const char *host_prefix, const char *ip_prefix, int kind,
               const void *data, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """Code points [a, b) stripped of dots at both ends: IP prefixes behind ``ip_prefix`` if
    they are a dotted quad (and ``ip_prefix`` is given), else host pieces."""
    cdef Py_ssize_t q
    while a < b and _cp(kind, data, a) == c'.':
        a += 1
    while b > a and _cp(kind, data, b - 1) == c'.':
        b -= 1
    if a == b:
        return 0
    q = _encode(s, kind, data, a, b)
    if q < 0:
        return -1
    if ip_prefix != NULL and _is_ipv4(s.aux, q):
        return _ip_pieces(s, ip_prefix, s.aux, q)
    return _host_pieces(s, host_prefix, s.aux, q)


# --- fields ------------------------------------------------------------------------------------

cdef inline bint _is_hostish(Py_UCS4 ch) noexcept nogil:
    return (c'a' <= ch <= c'z') or (c'0' <= ch <= c'9') or ch == c'.' or ch == c'-'


cdef int _received_run(Sink *s, const char *r, Py_ssize_t n) noexcept nogil:
    """One stripped ``[a-z0-9.-]`` run of a Received hop: IP prefixes or host pieces."""
    cdef Py_ssize_t i, last = -1
    cdef bint empty_label = False
    for i in range(n):
        if r[i] == c'.':
            if i > 0 and r[i - 1] == c'.':
                empty_label = True
            last = i
    if last < 0:
        return 0  # no dot
    if _is_ipv4(r, n):
        return _ip_pieces(s, b"received:ip:", r, n)
    if empty_label or n - last - 1 < 2:
        return 0
    for i in range(last + 1, n):
        if not (c'a' <= r[i] <= c'z'):
            return 0
    return _host_pieces(s, b"received:host:", r, n)


cdef int _received(Sink *s, str hop) except -1:
    cdef str low = _lowered(hop, MAX_FIELD_CHARS_C)
    cdef int kind = PyUnicode_KIND(low)
    cdef const void *data = PyUnicode_DATA(low)
    cdef Py_ssize_t n = len(low), i = 0, a, b
    cdef Py_UCS4 ch
    cdef char *run
    if _grow(&s.aux, &s.auxcap, n + 1) < 0:
        raise MemoryError()
    run = s.aux
    while i < n:
        if not _is_hostish(_cp(kind, data, i)):
            i += 1
            continue
        b = 0
        while i < n:
            ch = _cp(kind, data, i)
            if not _is_hostish(ch):
                break
            run[b] = <char>ch
            b += 1
            i += 1
        a = 0
        while a < b and (run[a] == c'.' or run[a] == c'-'):
            a += 1
        while b > a and (run[b - 1] == c'.' or run[b - 1] == c'-'):
            b -= 1
        if _received_run(s, run + a, b - a) < 0:
            raise MemoryError()
    return 0


cdef bint _starts_with(int kind, const void *data, Py_ssize_t a, Py_ssize_t b,
                       const char *ascii) noexcept nogil:
    cdef Py_ssize_t i = 0
    while ascii[i]:
        if a + i >= b or _cp(kind, data, a + i) != <Py_UCS4>ascii[i]:
            return False
        i += 1
    return True


cdef int _uri_range(Sink *s, int kind, const void *data, Py_ssize_t a,
                    Py_ssize_t b) noexcept nogil:
    """The URL rule over code points [a, b) of a ``_lowered`` URI."""
    cdef Py_ssize_t i, r, end, h, hend, at, colon, stop
    cdef Py_UCS4 ch
    _strip(kind, data, &a, &b)
    if a == b:
        return 0
    r = -1
    for i in range(a, b - 2):
        if (_cp(kind, data, i) == c':' and _cp(kind, data, i + 1) == c'/'
                and _cp(kind, data, i + 2) == c'/'):
            r = i
            break
    if r >= 0:
        if _emit_range(s, b"url:scheme:", kind, data, a, r) < 0:
            return -1
        r += 3
    elif _starts_with(kind, data, a, b, b"mailto:"):
        if _emit_bytes(s, b"url:scheme:mailto", 17, b"", 0) < 0:
            return -1
        stop = _find(kind, data, a + 7, b, c'?')
        if stop < 0:
            stop = b
        at = _rfind(kind, data, a + 7, stop, c'@')
        if at >= 0:
            return _host(s, b"url:mailto:", NULL, kind, data, at + 1, stop)
        return 0
    else:
        r = a
    end = b  # the authority ends at the first '/', '?' or '#'
    for i in range(r, b):
        ch = _cp(kind, data, i)
        if ch == c'/' or ch == c'?' or ch == c'#':
            end = i
            break
    at = _rfind(kind, data, r, end, c'@')
    h = at + 1 if at >= 0 else r
    if h < end and _cp(kind, data, h) == c'[':
        if _emit_bytes(s, b"url:ipv6", 8, b"", 0) < 0:
            return -1
    else:
        hend = end
        colon = _find(kind, data, h, end, c':')
        if colon >= 0:
            hend = colon
            if colon + 1 < end and _emit_range(s, b"url:port:", kind, data, colon + 1, end) < 0:
                return -1
        if _host(s, b"url:host:", b"url:ip:", kind, data, h, hend) < 0:
            return -1
    stop = b  # the path ends at the first '?' or '#'
    for i in range(end, b):
        ch = _cp(kind, data, i)
        if ch == c'?' or ch == c'#':
            stop = i
            break
    return _scan_range(s, kind, data, end, stop, b"url:path:", 9, False)


cdef int _uri(Sink *s, str uri) except -1:
    cdef str low = _lowered(uri, MAX_FIELD_CHARS_C)
    if not _cjk_loaded:
        _load_cjk()
    if _uri_range(s, PyUnicode_KIND(low), PyUnicode_DATA(low), 0, len(low)) < 0:
        raise MemoryError()
    return 0


cdef int _from_addr(Sink *s, str addr) except -1:
    cdef str low = _lowered(addr, MAX_FIELD_CHARS_C)
    cdef int kind = PyUnicode_KIND(low)
    cdef const void *data = PyUnicode_DATA(low)
    cdef Py_ssize_t a = 0, b = len(low), at
    cdef int rc = 0
    _strip(kind, data, &a, &b)
    if a == b:
        rc = _emit_bytes(s, b"from:none", 9, b"", 0)
    else:
        rc = _emit_range(s, b"from:addr:", kind, data, a, b)
        at = _rfind(kind, data, a, b, c'@')
        if rc == 0 and at >= 0:
            rc = _host(s, b"from:domain:", NULL, kind, data, at + 1, b)
    if rc < 0:
        raise MemoryError()
    return 0


# --- public functions --------------------------------------------------------------------------

def token_id(token):
    """The id of one token string (twin: ``tokenizer.token_id_py``)."""
    cdef bytes raw = _text(token).encode("utf-8", "surrogatepass")
    return _murmur3_h1(<const uint8_t *><const char *>raw, len(raw))


def tokenize_text(text, prefix="", bint bigrams=True):
    """The sorted unique word-token ids of one text (twin: ``tokenizer.tokenize_text_py``)."""
    cdef Sink s
    cdef bytes pre = _text(prefix).encode("utf-8", "surrogatepass")
    _sink_init(&s)
    try:
        _words(&s, _text(text), MAX_TEXT_CHARS_C, pre, bigrams)
        return _finish(&s)
    finally:
        _sink_free(&s)


cdef object _ignored = None  # tokenizer.IGNORED_HEADERS as UTF-8 bytes, made on first use
cdef tuple _ignored_prefixes = ()


cdef int _load_ignored() except -1:
    global _ignored, _ignored_prefixes
    from pmgfast.bayes.tokenizer import IGNORED_HEADER_PREFIXES, IGNORED_HEADERS
    _ignored_prefixes = tuple(p.encode() for p in IGNORED_HEADER_PREFIXES)
    _ignored = frozenset(h.encode() for h in IGNORED_HEADERS)
    return 0


cdef int _header_name(Sink *s, str name) except -1:
    """``header:<name>`` (stripped, lowercased) unless the twin's lists ignore the name. The
    names are ASCII, so comparing UTF-8 bytes equals comparing the strings."""
    cdef str low = _lowered(name, MAX_FIELD_CHARS_C)
    cdef int kind = PyUnicode_KIND(low)
    cdef const void *data = PyUnicode_DATA(low)
    cdef Py_ssize_t a = 0, b = len(low), q, i, n
    cdef bytes prefix
    _strip(kind, data, &a, &b)
    if a == b:
        return 0
    q = _encode(s, kind, data, a, b)
    if q < 0:
        raise MemoryError()
    if _ignored is None:
        _load_ignored()
    for prefix in _ignored_prefixes:
        n = len(prefix)
        if q >= n and memcmp(s.aux, <const char *>prefix, n) == 0:
            return 0
    if q <= 40 and PyBytes_FromStringAndSize(s.aux, q) in _ignored:
        return 0
    if _emit_bytes(s, b"header:", 7, s.aux, q) < 0:
        raise MemoryError()
    return 0


cdef int _text_view(Sink *s, object features) except -1:
    """The text view: body texts, subject, URIs, content types and charsets."""
    for value in features.texts:
        _words(s, _text(value), MAX_TEXT_CHARS_C, b"", True)
    _words(s, _text(features.subject), MAX_FIELD_CHARS_C, b"subject:", True)
    for value in features.uris:
        _uri(s, _text(value))
    for value in features.content_types:
        _emit_stripped(s, b"ct:", _text(value), MAX_FIELD_CHARS_C, c';')
    for value in features.charsets:
        _emit_stripped(s, b"charset:", _text(value), MAX_FIELD_CHARS_C, 0)
    return 0


cdef int _header_view(Sink *s, object features) except -1:
    """The header view: From address and name, Received hops, header names."""
    _from_addr(s, _text(features.from_addr))
    _words(s, _text(features.from_name), MAX_FIELD_CHARS_C, b"from:name:", False)
    for value in features.received:
        _received(s, _text(value))
    for value in features.header_names:
        _header_name(s, _text(value))
    return 0


def tokenize(features):
    """The sorted unique token ids of one ``TokenizerInput`` (twin: ``tokenizer.tokenize_py``)."""
    cdef Sink s
    _sink_init(&s)
    try:
        _text_view(&s, features)
        _header_view(&s, features)
        return _finish(&s)
    finally:
        _sink_free(&s)


def tokenize_views(features):
    """The sorted unique ids of the text view and of the header view (twin:
    ``tokenizer.tokenize_views_py``)."""
    cdef Sink s
    cdef object text
    _sink_init(&s)
    try:
        _text_view(&s, features)
        text = _finish(&s)
    finally:
        _sink_free(&s)
    _sink_init(&s)
    try:
        _header_view(&s, features)
        return text, _finish(&s)
    finally:
        _sink_free(&s)
