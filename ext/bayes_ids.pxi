# The id sink of the Bayesian tokenizer, included into bayes_tokenizer.pyx: token ids are
# hashed from a scratch buffer into a growing C array, then sorted, deduplicated and copied
# into one array('q'). Functions that run without the GIL return -1 when memory runs out; the
# caller raises MemoryError.

cdef extern from *:
    """
    #define PMG_SIGN_BIT 0x8000000000000000ULL
    """
    const uint64_t PMG_SIGN_BIT

cdef array _ID_ARRAY = array("q")


cdef struct Sink:
    int64_t *ids
    Py_ssize_t n
    Py_ssize_t cap
    char *buf  # the token being assembled
    Py_ssize_t bufcap
    char *aux  # a field as UTF-8, cut into several tokens
    Py_ssize_t auxcap


cdef int _sink_init(Sink *s) except -1:
    s.n = 0
    s.cap = 1024
    s.bufcap = 1024
    s.auxcap = 1024
    s.ids = <int64_t *>malloc(s.cap * sizeof(int64_t))
    s.buf = <char *>malloc(s.bufcap)
    s.aux = <char *>malloc(s.auxcap)
    if s.ids == NULL or s.buf == NULL or s.aux == NULL:
        _sink_free(s)
        raise MemoryError()
    return 0


cdef void _sink_free(Sink *s) noexcept nogil:
    free(s.ids)
    free(s.buf)
    free(s.aux)
    s.ids = NULL
    s.buf = NULL
    s.aux = NULL


cdef int _grow(char **p, Py_ssize_t *cap, Py_ssize_t need) noexcept nogil:
    """Make the buffer at ``*p`` hold ``need`` bytes."""
    cdef Py_ssize_t new_cap = cap[0]
    cdef char *grown
    if need <= new_cap:
        return 0
    while new_cap < need:
        new_cap *= 2
    grown = <char *>realloc(p[0], new_cap)
    if grown == NULL:
        return -1
    p[0] = grown
    cap[0] = new_cap
    return 0


cdef int _more_ids(Sink *s) noexcept nogil:
    cdef int64_t *grown = <int64_t *>realloc(s.ids, 2 * s.cap * sizeof(int64_t))
    if grown == NULL:
        return -1
    s.ids = grown
    s.cap *= 2
    return 0


cdef inline int _emit(Sink *s, const char *token, Py_ssize_t length) noexcept nogil:
    """Add the id of the ``length`` bytes at ``token``."""
    if s.n == s.cap and _more_ids(s) < 0:
        return -1
    s.ids[s.n] = _murmur3_h1(<const uint8_t *>token, length)
    s.n += 1
    return 0


cdef int _emit_bytes(Sink *s, const char *prefix, Py_ssize_t plen,
                     const char *data, Py_ssize_t dlen) noexcept nogil:
    """Add the id of ``prefix + data``."""
    if _grow(&s.buf, &s.bufcap, plen + dlen) < 0:
        return -1
    memcpy(s.buf, prefix, plen)
    memcpy(s.buf + plen, data, dlen)
    return _emit(s, s.buf, plen + dlen)


cdef inline void _insertion_sort(uint64_t *a, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef uint64_t v
    for i in range(1, n):
        v = a[i]
        j = i - 1
        while j >= 0 and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


cdef void _sort_buckets(uint64_t *a, uint64_t *tmp, Py_ssize_t n, int shift, int bits,
                        Py_ssize_t *counts, Py_ssize_t *ends) noexcept nogil:
    """One MSD radix pass on the ``bits``-bit digit at ``shift``, then each bucket by the lower
    bits (8 at a time), small buckets by insertion sort. ``counts`` and ``ends`` hold
    ``2**bits`` entries."""
    cdef Py_ssize_t i, total = 0, size, nbuckets = (<Py_ssize_t>1) << bits
    cdef uint64_t mask = (<uint64_t>1 << bits) - 1
    cdef Py_ssize_t c
    memset(counts, 0, nbuckets * sizeof(Py_ssize_t))
    for i in range(n):
        counts[(a[i] >> shift) & mask] += 1
    for c in range(nbuckets):
        ends[c] = total
        total += counts[c]
    for i in range(n):
        c = <Py_ssize_t>((a[i] >> shift) & mask)
        tmp[ends[c]] = a[i]
        ends[c] += 1
    memcpy(a, tmp, n * sizeof(uint64_t))
    if shift == 0:
        return  # a bucket now holds one repeated value
    for c in range(nbuckets):
        size = counts[c]
        if size > 32:
            _radix_sort(a + ends[c] - size, tmp + ends[c] - size, size, shift)
        elif size > 1:
            _insertion_sort(a + ends[c] - size, size)


cdef void _radix_sort(uint64_t *a, uint64_t *tmp, Py_ssize_t n, int above) noexcept nogil:
    """Sort keys that agree on every bit from ``above`` up, by the bits below it."""
    cdef Py_ssize_t counts[256]
    cdef Py_ssize_t ends[256]
    cdef Py_ssize_t i
    cdef int bits = 8 if above >= 8 else above
    for i in range(1, n):
        if a[i] != a[0]:
            break
    else:
        return  # one repeated id (a word or host that recurs): already in order
    _sort_buckets(a, tmp, n, above - bits, bits, counts, ends)


cdef int _sort_unique(Sink *s) noexcept nogil:
    """Sort the ids ascending as signed integers and drop repeats.

    An MSD radix sort whose first digit is wide enough (4 to 16 bits) to leave about two ids
    per bucket: ids are hashes, so that pass nearly sorts them, buckets of one repeated id stop
    at once, and even crafted ids cost a bounded number of passes, never quadratic time."""
    cdef Py_ssize_t n = s.n, i, m
    cdef uint64_t *keys = <uint64_t *>s.ids
    cdef uint64_t *tmp
    cdef Py_ssize_t *counts
    cdef int bits = 4
    if n == 0:
        return 0
    for i in range(n):  # with the sign bit flipped, unsigned order is the signed order
        keys[i] ^= PMG_SIGN_BIT
    if n <= 32:
        _insertion_sort(keys, n)
    else:
        while bits < 16 and ((<Py_ssize_t>2) << bits) < n:
            bits += 1
        tmp = <uint64_t *>malloc(n * sizeof(uint64_t))
        counts = <Py_ssize_t *>malloc(2 * ((<Py_ssize_t>1) << bits) * sizeof(Py_ssize_t))
        if tmp == NULL or counts == NULL:
            free(tmp)
            free(counts)
            return -1
        _sort_buckets(keys, tmp, n, 64 - bits, bits, counts, counts + ((<Py_ssize_t>1) << bits))
        free(tmp)
        free(counts)
    m = 1
    for i in range(1, n):
        if keys[i] != keys[m - 1]:
            keys[m] = keys[i]
            m += 1
    for i in range(m):
        keys[i] ^= PMG_SIGN_BIT
    s.n = m
    return 0


cdef array _finish(Sink *s):
    """The sink's ids, sorted and unique, as an ``array('q')``."""
    cdef array out
    if _sort_unique(s) < 0:
        raise MemoryError()
    out = clone(_ID_ARRAY, s.n, False)
    if s.n:
        memcpy(out.data.as_longlongs, s.ids, s.n * sizeof(int64_t))
    return out
