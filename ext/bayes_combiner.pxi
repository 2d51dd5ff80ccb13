# The chi-squared (Robinson-Fisher) combiner's hot loop, included into bayes_tokenizer.pyx.
#
# Compiled twin of pmgfast.bayes.classifier.combine_py (method, constants and guards: that
# module's docstring). Every floating-point operation below is the one the twin performs, in
# the same order, so both return bit-identical probabilities; tests/bayes checks it.

cdef extern from *:
    """
    #define PMG_COUNT_MAX 9007199254740992LL
    """
    const int64_t PMG_COUNT_MAX  # 2**53, classifier.COUNT_MAX

cdef double _PROB_MIN = 1e-12
cdef double _PROB_MAX = 1.0 - 1e-12
cdef double _LN2 = 0.6931471805599453
cdef double _TINY = 1e-200


cdef struct Clue:
    double dist
    double prob


cdef inline bint _weaker(const Clue *x, const Clue *y) noexcept nogil:
    """Whether ``x`` ranks below ``y``: less strength, or equal strength and less spammy (the
    twin's sort key). Clues equal in both are interchangeable: they carry the same f."""
    return x.dist < y.dist or (x.dist == y.dist and x.prob < y.prob)


cdef void _sift_down(Clue *heap, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """Restore the min-heap (weakest clue at the root) below position ``i``."""
    cdef Py_ssize_t child
    cdef Clue item = heap[i]
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and _weaker(&heap[child + 1], &heap[child]):
            child += 1
        if not _weaker(&heap[child], &item):
            break
        heap[i] = heap[child]
        i = child
    heap[i] = item


cdef Py_ssize_t _strongest(Clue *clues, Py_ssize_t m, Py_ssize_t k) noexcept nogil:
    """Keep the ``k`` strongest of ``m`` clues at the front of ``clues``, strongest first;
    return how many were kept. A bounded min-heap: O(m log k), whatever the counts."""
    cdef Py_ssize_t i, n = m if m < k else k
    cdef Clue tmp
    for i in range(n // 2 - 1, -1, -1):
        _sift_down(clues, i, n)
    for i in range(n, m):
        if _weaker(&clues[0], &clues[i]):
            clues[0] = clues[i]
            _sift_down(clues, 0, n)
    for i in range(n - 1, 0, -1):  # pop the weakest to the back: strongest first
        tmp = clues[0]
        clues[0] = clues[i]
        clues[i] = tmp
        _sift_down(clues, 0, i)
    return n


cdef inline int64_t _clamp_count(int64_t c) noexcept nogil:
    return 0 if c < 0 else (PMG_COUNT_MAX if c > PMG_COUNT_MAX else c)


cdef inline double _token_probability(int64_t spam_count, int64_t ham_count, double nspam,
                                      double nham, double strength,
                                      double assumed) noexcept nogil:
    cdef int64_t s = _clamp_count(spam_count), h = _clamp_count(ham_count)
    cdef int64_t n = s + h
    cdef double spam_ratio, ham_ratio, p, f
    if n == 0:
        return assumed
    spam_ratio = <double>s / nspam
    ham_ratio = <double>h / nham
    p = spam_ratio / (spam_ratio + ham_ratio)
    f = (strength * assumed + <double>n * p) / (strength + <double>n)
    return _PROB_MIN if f < _PROB_MIN else (_PROB_MAX if f > _PROB_MAX else f)


cdef double _chi2q(double x2, Py_ssize_t v) noexcept nogil:
    cdef double m = x2 / 2.0
    cdef double term = exp(-m)
    cdef double total = term
    cdef Py_ssize_t i
    for i in range(1, v // 2):
        term *= m / <double>i
        total += term
    return total if total < 1.0 else 1.0


cdef double _chi2_combine(const Clue *clues, Py_ssize_t n) noexcept nogil:
    cdef double s = 1.0, h = 1.0, ln_s, ln_h, spam, ham
    cdef int s_exp = 0, h_exp = 0, e
    cdef Py_ssize_t i
    if n == 0:
        return 0.5
    for i in range(n):
        s *= 1.0 - clues[i].prob
        h *= clues[i].prob
        if s < _TINY:
            s = frexp(s, &e)
            s_exp += e
        if h < _TINY:
            h = frexp(h, &e)
            h_exp += e
    ln_s = log(s) + <double>s_exp * _LN2
    ln_h = log(h) + <double>h_exp * _LN2
    spam = 1.0 - _chi2q(-2.0 * ln_s, 2 * n)
    ham = 1.0 - _chi2q(-2.0 * ln_h, 2 * n)
    return (spam - ham + 1.0) / 2.0


def combine(const long long[::1] spam_counts, const long long[::1] ham_counts,
            long long nspam, long long nham, double strength, double assumed,
            double min_strength, Py_ssize_t max_clues):
    """``(probability, number of clues)`` (twin: ``classifier.combine_py``)."""
    cdef Py_ssize_t n = spam_counts.shape[0], m = 0, i
    cdef double dnspam, dnham, f, dist, probability
    cdef Clue *clues
    if ham_counts.shape[0] != n:
        raise ValueError("spam_counts and ham_counts differ in length")
    if max_clues < 1:
        raise ValueError(f"max_clues must be at least 1, not {max_clues}")
    if nspam <= 0 or nham <= 0:
        return 0.5, 0
    dnspam = <double>_clamp_count(nspam)
    dnham = <double>_clamp_count(nham)
    clues = <Clue *>malloc((n if n > 0 else 1) * sizeof(Clue))
    if clues == NULL:
        raise MemoryError()
    try:
        with nogil:
            for i in range(n):
                f = _token_probability(spam_counts[i], ham_counts[i], dnspam, dnham,
                                       strength, assumed)
                dist = fabs(f - 0.5)
                if dist >= min_strength:
                    clues[m].dist = dist
                    clues[m].prob = f
                    m += 1
            m = _strongest(clues, m, max_clues)
            probability = _chi2_combine(clues, m)
    finally:
        free(clues)
    return probability, m
