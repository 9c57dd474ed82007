/* fastText's per-example SGD over one worker's share of an epoch, in C.
 *
 * The numpy engine (numpy_engine.py, NumpyEngine) is the readable reference; this file does
 * the same step for one example at a time, as fastText does, without Python overhead:
 *
 *     h = mean(W[rows]);  G = -lr * dloss/ds (s = O h);  dh = O^T G  (O before it moves)
 *     O[c] += G_c h;      W[r] += dh / |rows|  for every occurrence r of the line's rows
 *
 * with lr = decayed_lr(lr0, seen, rate, total) = lr0 * max(0, 1 - (seen - seen % rate) / total)
 * (numpy_engine.decayed_lr, tested equal) and ``seen`` the tokens all workers have processed
 * (a shared counter, updated atomically: Hogwild threads). The losses (enum Loss: the
 * positions in config.LOSSES, tested equal to sgd_kernel.LOSS_CODES): softmax, hs (the
 * Huffman path of the target), ns (the target, then the drawn negatives that differ from
 * it, each scored after the previous one moved O, as fastText does), ova and zlpr (every
 * label of the line).
 *
 * train_words does fastText's word-vector models (cbow, skipgram) over one worker's lines;
 * see WordJob below and word_engine.py. read_tokens reads a training file or a word-vector
 * corpus: its tokens, counted and numbered (fast_reader.py; see ReadJob below).
 *
 * The file is compiled twice by including itself: REAL float (suffix _f32) and double
 * (_f64, for the float64 tests). Built and loaded at run time by sgd_kernel.py.
 */
#ifndef REAL
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum Loss { LOSS_SOFTMAX = 0, LOSS_HS = 1, LOSS_NS = 2, LOSS_OVA = 3, LOSS_ZLPR = 4 };

/* fastText's learning rate after ``seen`` tokens: a linear decay to 0, updated every
 * ``rate`` tokens */
double decayed_lr(double lr0, int64_t seen, int64_t rate, double total) {
    return lr0 * fmax(0.0, 1.0 - (double)(seen - seen % rate) / total);
}

typedef struct {
    void *input;                       /* (n_rows, dim) REAL: W */
    void *output;                      /* (n_out, dim) REAL: O */
    int64_t dim, n_out;
    const int64_t *rows, *offsets;     /* line i owns rows[offsets[i]:offsets[i+1]] */
    const int64_t *order;              /* (n,) lines of this worker, in visiting order */
    int64_t n;
    const int64_t *ntok;               /* tokens fastText counts per line */
    const int64_t *target;             /* (n,) one label per visited line: softmax, hs, ns */
    const int64_t *label_off, *label_flat; /* every label of each line: ova, zlpr */
    const int64_t *negatives;          /* (n, neg) drawn labels: ns */
    int64_t neg;
    const int64_t *paths;              /* (n_labels, depth) Huffman nodes: hs */
    const void *codes;                 /* (n_labels, depth) REAL 0/1 */
    const int64_t *path_len;           /* (n_labels,) nodes on each path */
    int64_t depth;
    int64_t *seen;                     /* tokens processed by all workers (shared) */
    double lr, total_tokens;
    int64_t rate;
    int64_t void_row;                  /* a row kept at zero, or -1 */
    int64_t loss;                      /* enum Loss */
    void *scratch;                     /* REAL: 2 * dim + 3 * n_out */
    double loss_sum;                   /* out: summed loss of this call */
    double last_lr;                    /* out: learning rate of the last example */
} Job;

/* fastText's unsupervised step (word_engine.py): per line, drop each token with probability
 * 1 - pdiscard[w]; then per kept position w a window b ~ uniform{1..ws} and
 *     skipgram: for each context c within b:  update(rows(line[w]), target line[c])
 *     cbow:     update(rows of every context word within b, concatenated, target line[w])
 *     update(in, y): h = mean(W[in]); G from the loss at y; dh = O^T G; O moves;
 *                    W[r] += dh for every r in in (not divided by |in|: fastText's
 *                    normalizeGradient is off outside supervised models)
 * lr = lr0 * max(0, 1 - seen / total_tokens) per line; a worker adds its tokens to the
 * shared `seen` once it holds more than `rate` of them (and at the end of its share).
 * Random numbers: minstd (x = x * 48271 mod 2^31 - 1), one stream per worker; in order,
 * the line's keep draws u = x / (2^31 - 1) (keep when u <= pdiscard), then per position
 * b = 1 + x % ws, then the negatives table[x % n_table], drawn again while equal to the
 * target. */
typedef struct {
    void *input, *output;              /* W (n_rows, dim), O (n_out, dim) REAL */
    int64_t dim, n_out;
    const int64_t *tokens;             /* word ids of this worker's lines, </s> included */
    const int64_t *line_off;           /* line i: tokens[line_off[i]:line_off[i+1]] */
    int64_t n_lines;
    const int64_t *sub_off, *sub_rows; /* rows of word v: sub_rows[sub_off[v]:sub_off[v+1]] */
    const double *pdiscard;            /* (nwords,) probability of keeping a token */
    const int32_t *negatives;          /* (n_table,) word ids ~ count^0.5: ns */
    int64_t n_table, neg;
    const int64_t *paths;              /* (nwords, depth) Huffman nodes: hs */
    const void *codes;                 /* (nwords, depth) REAL 0/1 */
    const int64_t *path_len;
    int64_t depth;
    int64_t ws, cbow, loss;            /* cbow: 1, skipgram: 0; enum Loss */
    uint64_t rng;                      /* in/out: this worker's minstd state */
    int64_t *seen;                     /* tokens processed by all workers (shared) */
    int64_t local;                     /* in/out: tokens not yet added to seen */
    double lr, total_tokens;
    int64_t rate;
    void *scratch;                     /* REAL: 2 * dim + n_out */
    int64_t *kept;                     /* int64: longest line + 2 * ws * most rows a word */
    int64_t flush;                     /* 1: add all of local to seen at the end */
    double loss_sum;                   /* out: summed loss of this call */
    int64_t n_examples;                /* out: updates made */
    double last_lr;                    /* out */
} WordJob;

#define MINSTD_M 2147483647ULL
static inline uint64_t minstd(uint64_t *x) { return *x = (*x * 48271ULL) % MINSTD_M; }

/* ---- read_tokens: a fastText training file, tokenised and counted (fast_reader.py) ----
 *
 * The same reading as data.py's whitespace tokenizer (read_labeled_file, tested equal),
 * fastText's (Dictionary::readWord): a line ends at '\n' only (a final one starts no
 * line); inside it, tokens are separated by space, tab, \v, \f, \r and NUL (BYTE_CLASS:
 * data.LINE_END, data.TOKEN_SEPARATORS); every other byte, \x1c or those of U+2028 too,
 * is part of a token. A token that starts with
 * the label prefix is a label. A line with a label is kept: its words and its labels go to
 * word_tok / label_tok as ids of the distinct tokens (numbered in order of first sight in
 * the kept lines), and count[id] counts them; a line without one is skipped (counted in
 * skipped when it has a token). ntokens: every token of every line, plus one per line.
 * With words_only (the corpus of cbow and skipgram) no token is a label and every line is
 * kept, an empty one too.
 *
 * Called twice: with word_off == NULL it only counts (lines, words, labels) so that the
 * caller can size the outputs; then it fills them. The distinct tokens are interned in an
 * open-addressing table keyed by fastText's hash (fnv1a32 of the bytes, each byte
 * sign-extended: hashing.py), which is also returned: the word n-grams need it. */
typedef struct {
    const uint8_t *text;               /* the file's bytes */
    int64_t n;
    const uint8_t *prefix;             /* the label prefix */
    int64_t prefix_len;
    int64_t words_only;                /* 1: no labels, every line kept (word vectors) */
    int32_t *word_tok, *label_tok;     /* out: distinct id of each word / label, kept lines */
    int64_t *word_off, *label_off;     /* out: line i's words word_tok[word_off[i]:word_off[i+1]] */
    int64_t *count;                    /* out, per distinct token: occurrences in kept lines */
    uint32_t *hash;                    /* out: fastText's hash */
    uint8_t *is_label;                 /* out: 1 for a label */
    uint8_t *strings;                  /* out: the distinct tokens, each followed by '\n' */
    int64_t *first;                    /* out: token id starts at strings[first[id]] */
    int64_t n_lines, n_words, n_labels; /* out: kept lines, their words and labels */
    int64_t n_distinct, strings_len, skipped, ntokens; /* out */
} ReadJob;

/* fastText's reading rule, in one table: what each byte is */
enum { IN_TOKEN = 0, SEPARATOR = 1, LINE_END = 2 };
static const uint8_t BYTE_CLASS[256] = {
    [' '] = SEPARATOR,  ['\t'] = SEPARATOR, ['\v'] = SEPARATOR, ['\f'] = SEPARATOR,
    ['\r'] = SEPARATOR, [0] = SEPARATOR,    ['\n'] = LINE_END,
};

/* end of the token that starts at p */
static inline const uint8_t *token_end(const uint8_t *p, const uint8_t *end) {
    while (p < end && BYTE_CLASS[*p] == IN_TOKEN) p++;
    return p;
}

static inline uint32_t fasttext_hash(const uint8_t *s, int64_t len) {
    uint32_t h = 2166136261u;
    for (int64_t i = 0; i < len; i++) h = (h ^ (uint32_t)(int32_t)(int8_t)s[i]) * 16777619u;
    return h;
}

typedef struct {
    uint32_t hash; /* of the token in it */
    int32_t id;    /* distinct id, or -1: empty */
} Slot;

typedef struct {
    Slot *slot;
    int bits; /* 2^bits slots */
} Table;

static inline uint64_t slot_of(uint32_t h, int bits) { /* Fibonacci hashing: the top bits */
    return (uint32_t)(h * 2654435769u) >> (32 - bits);
}

/* a table of 2^bits empty slots holding the job's distinct tokens; 0, or -1: no memory */
static int table_resize(Table *t, const ReadJob *job, int bits) {
    Slot *slot = malloc(sizeof(Slot) << bits);
    if (!slot) return -1;
    memset(slot, 0xff, sizeof(Slot) << bits);
    const uint64_t mask = (1ULL << bits) - 1;
    for (int64_t id = 0; id < job->n_distinct; id++) {
        uint64_t i = slot_of(job->hash[id], bits);
        while (slot[i].id >= 0) i = (i + 1) & mask;
        slot[i] = (Slot){job->hash[id], (int32_t)id};
    }
    free(t->slot);
    t->slot = slot;
    t->bits = bits;
    return 0;
}

/* the id of the token s[0:len] (a new one on first sight), or -1 when out of memory */
static int64_t intern(ReadJob *job, Table *t, const uint8_t *s, int64_t len, int label) {
    const uint32_t h = fasttext_hash(s, len);
    const uint64_t mask = (1ULL << t->bits) - 1;
    uint64_t i = slot_of(h, t->bits);
    for (; t->slot[i].id >= 0; i = (i + 1) & mask) {
        const int32_t id = t->slot[i].id;
        if (t->slot[i].hash == h && job->first[id + 1] - job->first[id] == len + 1 &&
            memcmp(job->strings + job->first[id], s, (size_t)len) == 0)
            return id;
    }
    const int64_t id = job->n_distinct++;
    t->slot[i] = (Slot){h, (int32_t)id};
    job->hash[id] = h;
    job->is_label[id] = (uint8_t)label;
    job->count[id] = 0;
    memcpy(job->strings + job->strings_len, s, (size_t)len);
    job->strings_len += len;
    job->strings[job->strings_len++] = '\n';
    job->first[id + 1] = job->strings_len;
    if (2 * job->n_distinct > (1LL << t->bits) && table_resize(t, job, t->bits + 1)) return -1;
    return id;
}

/* whether the token s[0:len] is a label: it starts with the prefix (never in words_only) */
static inline int label_token(const ReadJob *job, const uint8_t *s, int64_t len) {
    return !job->words_only && len >= job->prefix_len &&
           memcmp(s, job->prefix, (size_t)job->prefix_len) == 0;
}

/* 0, or -1 when out of memory */
int64_t read_tokens(ReadJob *job) {
    const uint8_t *p = job->text, *end = job->text + job->n;
    const int fill = job->word_off != NULL;
    Table table = {NULL, 0};
    job->n_lines = job->n_words = job->n_labels = job->n_distinct = job->strings_len = 0;
    job->skipped = job->ntokens = 0;
    if (fill) {
        if (table_resize(&table, job, 10)) return -1;
        job->first[0] = 0;
        job->word_off[0] = job->label_off[0] = 0;
    }
    while (p < end) { /* one line */
        int64_t k = 0, labels = 0;
        const uint8_t *q = p;
        while (q < end && BYTE_CLASS[*q] != LINE_END) { /* its end, its tokens and labels */
            if (BYTE_CLASS[*q] == SEPARATOR) {
                q++;
                continue;
            }
            const uint8_t *e = token_end(q, end);
            k++;
            labels += label_token(job, q, e - q);
            q = e;
        }
        job->ntokens += k + 1;
        if (labels == 0 && !job->words_only) {
            job->skipped += k > 0;
        } else if (!fill) {
            job->n_words += k - labels;
            job->n_labels += labels;
            job->n_lines++;
        } else {
            for (const uint8_t *s = p; s < q;) {
                if (BYTE_CLASS[*s] == SEPARATOR) {
                    s++;
                    continue;
                }
                const uint8_t *e = token_end(s, q);
                const int label = label_token(job, s, e - s);
                const int64_t id = intern(job, &table, s, e - s, label);
                if (id < 0) {
                    free(table.slot);
                    return -1;
                }
                job->count[id]++;
                if (label) job->label_tok[job->n_labels++] = (int32_t)id;
                else job->word_tok[job->n_words++] = (int32_t)id;
                s = e;
            }
            job->n_lines++;
            job->word_off[job->n_lines] = job->n_words;
            job->label_off[job->n_lines] = job->n_labels;
        }
        p = q + (q < end); /* past the '\n' */
    }
    free(table.slot);
    return 0;
}

/* ---- vocab_table, line_tokens: lines of plain text cut, hashed, looked up (plain_text.py) ----
 *
 * vocab_table puts the words 0..n-1 (word i: the bytes words[first[i]:first[i+1]]) in an
 * open-addressing table of 2^bits slots (-1: empty; slot_of, then the next slots) keyed by
 * fastText's hash, which it writes to hash; a word given twice keeps its last id, as a
 * Python dict does. line_tokens cuts text into n_lines lines at '\n' and each line into
 * tokens at ' ', '\t', '\v', '\f', '\r' (what str.split does where these are the only
 * spaces: plain_text.py checks), and gives each token its word id (-1: not a word) and
 * its hash; raw_len[i]: the tokens of line i. Returns the number of tokens (ids and
 * token_hash have room for n / 2 + 1). */
static inline int plain_space(uint8_t c) {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* the slot of the word s[0:len] of hash h in the table, or of the empty slot that ends
 * its probe */
static uint64_t vocab_slot(const uint8_t *words, const int64_t *first, const uint32_t *hash,
                           const int32_t *slot, int64_t bits, const uint8_t *s, int64_t len,
                           uint32_t h) {
    const uint64_t mask = (1ULL << bits) - 1;
    uint64_t i = slot_of(h, (int)bits);
    for (; slot[i] >= 0; i = (i + 1) & mask) {
        const int32_t id = slot[i];
        if (hash[id] == h && first[id + 1] - first[id] == len &&
            memcmp(words + first[id], s, (size_t)len) == 0)
            break;
    }
    return i;
}

void vocab_table(const uint8_t *words, const int64_t *first, int64_t n, uint32_t *hash,
                 int32_t *slot, int64_t bits) {
    memset(slot, 0xff, sizeof(int32_t) << bits);
    for (int64_t id = 0; id < n; id++) {
        const uint8_t *s = words + first[id];
        const int64_t len = first[id + 1] - first[id];
        hash[id] = fasttext_hash(s, len);
        slot[vocab_slot(words, first, hash, slot, bits, s, len, hash[id])] = (int32_t)id;
    }
}

int64_t line_tokens(const uint8_t *text, int64_t n, int64_t n_lines, const uint8_t *words,
                    const int64_t *first, const uint32_t *hash, const int32_t *slot,
                    int64_t bits, int64_t *ids, uint32_t *token_hash, int64_t *raw_len) {
    const uint8_t *p = text, *end = text + n;
    int64_t t = 0;
    for (int64_t i = 0; i < n_lines; i++, p++) { /* p++: past the '\n' */
        const int64_t t0 = t;
        while (p < end && *p != '\n') {
            if (plain_space(*p)) {
                p++;
                continue;
            }
            const uint8_t *s = p;
            while (p < end && *p != '\n' && !plain_space(*p)) p++;
            const uint32_t h = fasttext_hash(s, p - s);
            ids[t] = slot[vocab_slot(words, first, hash, slot, bits, s, p - s, h)];
            token_hash[t++] = h;
        }
        raw_len[i] = t - t0;
    }
    return t;
}

/* ---- pq_decode: rows rebuilt from product-quantizer codes (product_quantizer.py) ----
 *
 *     out[i, s * dsub + t] = table[s, codes[i, s], t] * scale[i]     (t < the width of s)
 *
 * table: (m, 256, dsub) float32, the last sub-space zero-padded to dsub; out: (n, d);
 * scale: the rows' norms (-qnorm), or NULL for 1. Decoding an official .ftz (2M rows) is
 * writing 800 MB: one pass, where numpy took a gather, a copy and a multiply. */
void pq_decode(const uint8_t *codes, int64_t n, int64_t m, const float *table, int64_t dsub,
               int64_t d, const float *scale, float *out) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *code = codes + i * m;
        float *row = out + i * d;
        for (int64_t s = 0; s < m; s++) {
            const float *c = table + (s * 256 + code[s]) * dsub;
            const int64_t width = d - s * dsub < dsub ? d - s * dsub : dsub;
            if (scale)
                for (int64_t t = 0; t < width; t++) row[s * dsub + t] = c[t] * scale[i];
            else
                memcpy(row + s * dsub, c, sizeof(float) * (size_t)width);
        }
    }
}

#define REAL float
#define SUFFIX(name) name##_f32
#include __FILE__
#undef REAL
#undef SUFFIX
#define REAL double
#define SUFFIX(name) name##_f64
#include __FILE__

#else /* the body, once per REAL */

static REAL SUFFIX(dot)(const REAL *a, const REAL *b, int64_t n) {
    REAL s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void SUFFIX(axpy)(REAL *y, REAL a, const REAL *x, int64_t n) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* the logistic function of x from e = exp(-|x|) (computed once for it and the loss) */
static REAL SUFFIX(sigmoid)(REAL x, double e_abs) {
    REAL e = (REAL)e_abs;
    return x >= 0 ? (REAL)1 / ((REAL)1 + e) : e / ((REAL)1 + e);
}

/* Softmax over all C outputs at target y: G_c = lr ([c = y] - p_c); s: C scratch values */
static double SUFFIX(softmax)(REAL *O, int64_t dim, int64_t C, int64_t y, const REAL *h,
                              REAL *grad, REAL *s, double lr) {
    REAL mx = -INFINITY;
    for (int64_t c = 0; c < C; c++) {
        s[c] = SUFFIX(dot)(O + c * dim, h, dim);
        if (s[c] > mx) mx = s[c];
    }
    REAL z = 0;
    for (int64_t c = 0; c < C; c++) z += (s[c] = (REAL)exp((double)(s[c] - mx)));
    for (int64_t c = 0; c < C; c++) {
        s[c] /= z;
        REAL alpha = (REAL)lr * ((c == y ? (REAL)1 : (REAL)0) - s[c]);
        SUFFIX(axpy)(grad, alpha, O + c * dim, dim);
        SUFFIX(axpy)(O + c * dim, alpha, h, dim);
    }
    return -log((double)s[y] + 1e-5);
}

/* One binary logistic output c with target t in {0,1}: G_c = lr (t - sigma(s_c)). */
static double SUFFIX(binary)(REAL *O, int64_t dim, int64_t c, REAL t, const REAL *h, REAL *grad,
                             double lr) {
    REAL *oc = O + c * dim;
    REAL s = SUFFIX(dot)(oc, h, dim);
    const double e = exp(-fabs((double)s));
    REAL alpha = (REAL)lr * (t - SUFFIX(sigmoid)(s, e));
    SUFFIX(axpy)(grad, alpha, oc, dim);
    SUFFIX(axpy)(oc, alpha, h, dim);
    /* the loss: log(1 + e^s) - s t, without overflow */
    return (s > 0 ? (double)s : 0.0) + log1p(e) - (double)s * (double)t;
}

/* log(1 + sum_{c in set} e^{sign s_c}) and its gradient into g (0 elsewhere), stably */
static double SUFFIX(zlpr_half)(const REAL *s, const REAL *t, REAL want, REAL sign, int64_t C,
                                REAL *g) {
    double m = 0;
    for (int64_t c = 0; c < C; c++)
        if (t[c] == want && sign * s[c] > m) m = sign * s[c];
    double denom = exp(-m);
    for (int64_t c = 0; c < C; c++)
        if (t[c] == want) denom += exp(fmin(sign * s[c] - m, 0.0));
    for (int64_t c = 0; c < C; c++)
        if (t[c] == want) g[c] += sign * (REAL)(exp(fmin(sign * s[c] - m, 0.0)) / denom);
    return m + log(denom);
}

int64_t SUFFIX(train_share)(Job *job) {
    REAL *W = (REAL *)job->input, *O = (REAL *)job->output;
    const int64_t dim = job->dim, C = job->n_out;
    REAL *h = (REAL *)job->scratch, *grad = h + dim, *s = grad + dim, *t = s + C;
    const REAL *codes = (const REAL *)job->codes;
    double loss_sum = 0, lr = job->lr;
    for (int64_t k = 0; k < job->n; k++) {
        const int64_t line = job->order[k];
        int64_t seen = __atomic_load_n(job->seen, __ATOMIC_RELAXED);
        lr = decayed_lr(job->lr, seen, job->rate, job->total_tokens);
        const int64_t *rows = job->rows + job->offsets[line];
        const int64_t len = job->offsets[line + 1] - job->offsets[line];
        memset(h, 0, sizeof(REAL) * dim);
        memset(grad, 0, sizeof(REAL) * dim);
        for (int64_t j = 0; j < len; j++) SUFFIX(axpy)(h, (REAL)1, W + rows[j] * dim, dim);
        const REAL inv = (REAL)1 / (REAL)len;
        for (int64_t i = 0; i < dim; i++) h[i] *= inv;
        const int64_t y = job->target ? job->target[k] : -1;
        if (job->loss == LOSS_SOFTMAX) {
            loss_sum += SUFFIX(softmax)(O, dim, C, y, h, grad, s, lr);
        } else if (job->loss == LOSS_HS) {
            for (int64_t j = 0; j < job->path_len[y]; j++)
                loss_sum += SUFFIX(binary)(O, dim, job->paths[y * job->depth + j],
                                           codes[y * job->depth + j], h, grad, lr);
        } else if (job->loss == LOSS_NS) {
            loss_sum += SUFFIX(binary)(O, dim, y, (REAL)1, h, grad, lr);
            for (int64_t j = 0; j < job->neg; j++) {
                int64_t c = job->negatives[k * job->neg + j];
                if (c != y) loss_sum += SUFFIX(binary)(O, dim, c, (REAL)0, h, grad, lr);
            }
        } else { /* ova, zlpr: every label of the line is a positive */
            memset(t, 0, sizeof(REAL) * C);
            for (int64_t j = job->label_off[line]; j < job->label_off[line + 1]; j++)
                t[job->label_flat[j]] = 1;
            if (job->loss == LOSS_OVA) {
                for (int64_t c = 0; c < C; c++)
                    loss_sum += SUFFIX(binary)(O, dim, c, t[c], h, grad, lr);
            } else { /* zlpr: G = -lr * dloss/ds from all scores, then the updates */
                REAL *g = t + C;
                for (int64_t c = 0; c < C; c++) {
                    s[c] = SUFFIX(dot)(O + c * dim, h, dim);
                    g[c] = 0;
                }
                loss_sum += SUFFIX(zlpr_half)(s, t, (REAL)0, (REAL)1, C, g);
                loss_sum += SUFFIX(zlpr_half)(s, t, (REAL)1, (REAL)-1, C, g);
                for (int64_t c = 0; c < C; c++) {
                    REAL alpha = -(REAL)lr * g[c];
                    SUFFIX(axpy)(grad, alpha, O + c * dim, dim);
                    SUFFIX(axpy)(O + c * dim, alpha, h, dim);
                }
            }
        }
        /* W[r] += grad / len for every occurrence (a repeated row moves twice) */
        for (int64_t i = 0; i < dim; i++) grad[i] *= inv;
        for (int64_t j = 0; j < len; j++)
            if (rows[j] != job->void_row) SUFFIX(axpy)(W + rows[j] * dim, (REAL)1, grad, dim);
        __atomic_fetch_add(job->seen, job->ntok[line], __ATOMIC_RELAXED);
    }
    job->loss_sum = loss_sum;
    job->last_lr = lr;
    return 0;
}

/* fastText's Model::update for word vectors: the rows `in` (n_in >= 1) predict word y */
static double SUFFIX(word_update)(WordJob *job, const int64_t *in, int64_t n_in, int64_t y,
                                  double lr) {
    REAL *W = (REAL *)job->input, *O = (REAL *)job->output;
    const int64_t dim = job->dim;
    REAL *h = (REAL *)job->scratch, *grad = h + dim, *s = grad + dim;
    const REAL *codes = (const REAL *)job->codes;
    double loss = 0;
    memset(h, 0, sizeof(REAL) * dim);
    memset(grad, 0, sizeof(REAL) * dim);
    for (int64_t j = 0; j < n_in; j++) SUFFIX(axpy)(h, (REAL)1, W + in[j] * dim, dim);
    const REAL inv = (REAL)1 / (REAL)n_in;
    for (int64_t i = 0; i < dim; i++) h[i] *= inv;
    if (job->loss == LOSS_SOFTMAX) {
        loss = SUFFIX(softmax)(O, dim, job->n_out, y, h, grad, s, lr);
    } else if (job->loss == LOSS_HS) {
        for (int64_t j = 0; j < job->path_len[y]; j++)
            loss += SUFFIX(binary)(O, dim, job->paths[y * job->depth + j],
                                   codes[y * job->depth + j], h, grad, lr);
    } else { /* ns: the target, then neg draws from the table, each != y */
        loss = SUFFIX(binary)(O, dim, y, (REAL)1, h, grad, lr);
        for (int64_t j = 0; j < job->neg; j++) {
            int64_t c;
            do c = job->negatives[minstd(&job->rng) % (uint64_t)job->n_table];
            while (c == y);
            loss += SUFFIX(binary)(O, dim, c, (REAL)0, h, grad, lr);
        }
    }
    for (int64_t j = 0; j < n_in; j++) SUFFIX(axpy)(W + in[j] * dim, (REAL)1, grad, dim);
    job->n_examples++;
    return loss;
}

int64_t SUFFIX(train_words)(WordJob *job) {
    const int64_t ws = job->ws;
    int64_t *line = job->kept, *bow = job->kept;
    double lr = job->lr;
    job->loss_sum = 0;
    job->n_examples = 0;
    for (int64_t i = 0; i < job->n_lines; i++) {
        const double seen = (double)__atomic_load_n(job->seen, __ATOMIC_RELAXED);
        if (seen >= job->total_tokens) break; /* fastText: stop once epoch * ntokens read */
        lr = job->lr * fmax(0.0, 1.0 - seen / job->total_tokens);
        const int64_t *tok = job->tokens + job->line_off[i];
        const int64_t len = job->line_off[i + 1] - job->line_off[i];
        int64_t n = 0;
        for (int64_t j = 0; j < len; j++) /* subsampling: keep with probability pdiscard */
            if ((double)minstd(&job->rng) / (double)MINSTD_M <= job->pdiscard[tok[j]])
                line[n++] = tok[j];
        bow = line + n;
        for (int64_t w = 0; w < n; w++) {
            const int64_t b = 1 + (int64_t)(minstd(&job->rng) % (uint64_t)ws);
            const int64_t lo = w - b > 0 ? w - b : 0, hi = w + b < n - 1 ? w + b : n - 1;
            if (job->cbow) {
                int64_t n_in = 0;
                for (int64_t c = lo; c <= hi; c++) {
                    if (c == w) continue;
                    const int64_t v = line[c];
                    for (int64_t r = job->sub_off[v]; r < job->sub_off[v + 1]; r++)
                        bow[n_in++] = job->sub_rows[r];
                }
                if (n_in > 0) job->loss_sum += SUFFIX(word_update)(job, bow, n_in, line[w], lr);
            } else {
                const int64_t v = line[w];
                const int64_t *in = job->sub_rows + job->sub_off[v];
                const int64_t n_in = job->sub_off[v + 1] - job->sub_off[v];
                for (int64_t c = lo; c <= hi; c++)
                    if (c != w) job->loss_sum += SUFFIX(word_update)(job, in, n_in, line[c], lr);
            }
        }
        job->local += len;
        if (job->local > job->rate) {
            __atomic_fetch_add(job->seen, job->local, __ATOMIC_RELAXED);
            job->local = 0;
        }
    }
    if (job->flush) {
        __atomic_fetch_add(job->seen, job->local, __ATOMIC_RELAXED);
        job->local = 0;
    }
    job->last_lr = lr;
    return 0;
}

/* ---- line_scores: the classifier's forward pass over many lines (model.py, logits) ----
 *
 *     h_i = sum_j weight[j] W[rows[j]]   j = offsets[i] .. offsets[i+1] - 1, in that order
 *     out_i = O h_i  (n_out,)    or, when O is NULL,  out_i = h_i  (dim,)
 *
 * one pass over the lines, h in a scratch vector; a row of weight 0 (an n-gram bucket
 * absent from a compact table) is not read. The rows of a large table are scattered in
 * memory: the row `ahead` places on is asked for (prefetched) before it is needed, which
 * took a third off the time on a 2M-row table. W and O may start at any byte (views into a file's
 * bytes: fasttext_bin.py), so they are read through a type of alignment 1. The caller
 * checks that every row lies in W. Returns 0, or -1 when h cannot be allocated. */
typedef REAL SUFFIX(loose) __attribute__((aligned(1)));

int64_t SUFFIX(line_scores)(const SUFFIX(loose) *W, const SUFFIX(loose) *O, int64_t dim,
                            int64_t n_out, const int64_t *rows, const REAL *weight,
                            const int64_t *offsets, int64_t n_lines, REAL *out) {
    const int64_t ahead = 8, row_bytes = dim * (int64_t)sizeof(REAL), n_rows = offsets[n_lines];
    REAL *h = O ? malloc(sizeof(REAL) * (size_t)dim) : NULL;
    if (O && !h) return -1;
    for (int64_t i = 0; i < n_lines; i++) {
        REAL *hi = O ? h : out + i * dim;
        memset(hi, 0, sizeof(REAL) * (size_t)dim);
        for (int64_t j = offsets[i]; j < offsets[i + 1]; j++) {
            if (j + ahead < n_rows)
                for (int64_t b = 0; b < row_bytes; b += 64) /* one cache line at a time */
                    __builtin_prefetch((const char *)(W + rows[j + ahead] * dim) + b);
            const REAL w = weight[j];
            const SUFFIX(loose) *x = W + rows[j] * dim;
            if (w == 0) continue;
#pragma omp simd
            for (int64_t k = 0; k < dim; k++) hi[k] += w * x[k];
        }
        for (int64_t c = 0; O && c < n_out; c++) {
            const SUFFIX(loose) *o = O + c * dim;
            REAL s = 0;
#pragma omp simd reduction(+ : s)
            for (int64_t k = 0; k < dim; k++) s += o[k] * h[k];
            out[i * n_out + c] = s;
        }
    }
    free(h);
    return 0;
}

#endif
