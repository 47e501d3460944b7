/*
 * The C API from C: every golden case through pf_forward / pf_greedy / pf_beam_search /
 * pf_generate (PyTorch's outputs: tokens exact, scores and logits within 1e-4), then bad
 * input, each call checked for its exact status. Built by tools/test.d/30-c-api.sh with
 * -fsanitize=address,undefined; scratch buffers are allocated at their exact size, so an
 * overrun is an ASan error.
 *
 *   test_api MODEL.pfm CASES.txt [MODEL.pfm CASES.txt ...]
 *
 * CASES.txt is made by tests/c/golden_cases.py. The first model must be paper_small (the
 * bad-input tests use its dimensions); pf_generate's bad-input test runs on the first
 * model with generate cases (a llama model). Prints "test NAME ... ok|FAILED" per test and
 * "N passed, N failed" at the end; exits 1 on any failure.
 */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#define PICOFORMER_STD
#include "picoformer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 1e-4f

static int passed, failed;
static char failure[512];

#define FAIL(...)                                                  \
    do {                                                           \
        snprintf(failure, sizeof failure, __VA_ARGS__);            \
        return 0;                                                  \
    } while (0)

#define CHECK_STATUS(call, want)                                               \
    do {                                                                       \
        int32_t got_ = (call);                                                 \
        if (got_ != (want))                                                    \
            FAIL("line %d: %s returned %d (%s), wanted %s (%d)", __LINE__, #call, \
                 got_, pf_status_message(got_), #want, (want));                \
    } while (0)

/* CHECK_STATUS for a test that frees what it allocated: on a wrong status, names `what`
 * and jumps to the test's `out:` label. (The wanted status is given by number and message:
 * a macro that passes `want` on has expanded its name already.) */
#define EXPECT_OR_OUT(call, what, want)                                                   \
    do {                                                                                  \
        int32_t got_ = (call);                                                            \
        if (got_ != (want)) {                                                             \
            snprintf(failure, sizeof failure, "line %d: %s: got %d (%s), wanted %d (%s)", \
                     __LINE__, (what), got_, pf_status_message(got_), (want),             \
                     pf_status_message(want));                                            \
            goto out;                                                                     \
        }                                                                                 \
    } while (0)

static void report(const char *name, int ok) {
    if (ok) {
        passed++;
        printf("test %s ... ok\n", name);
    } else {
        failed++;
        printf("test %s ... FAILED: %s\n", name, failure);
    }
    failure[0] = 0;
}

static void *xaligned(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, PF_ALIGN, bytes ? bytes : 1) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- the model file, read through the API's own host helpers ---- */

struct blob {
    uint8_t *bytes;
    size_t len;
};

static struct blob g_blob; /* paper_small */
static pf_model g_model;

static struct blob read_blob(const char *path) {
    struct blob b = {0};
    size_t size = 0, got = 0;
    int32_t s = pf_file_size(path, &size);
    if (s != PF_OK) {
        fprintf(stderr, "%s: %s\n", path, pf_status_message(s));
        exit(2);
    }
    b.bytes = xaligned(size);
    s = pf_read_file(path, b.bytes, size, &got);
    if (s != PF_OK || got != size) {
        fprintf(stderr, "%s: %s\n", path, pf_status_message(s));
        exit(2);
    }
    b.len = got;
    return b;
}

/* ---- golden cases ---- */

static size_t read_seq(FILE *f, uint32_t *out, size_t cap) {
    size_t n = 0;
    if (fscanf(f, "%zu", &n) != 1 || n > cap) {
        fprintf(stderr, "bad case file\n");
        exit(2);
    }
    for (size_t i = 0; i < n; i++)
        if (fscanf(f, "%u", &out[i]) != 1) exit(2);
    return n;
}

static float read_float(FILE *f) {
    float v;
    if (fscanf(f, "%f", &v) != 1) exit(2);
    return v;
}

static size_t read_size(FILE *f) {
    size_t v;
    if (fscanf(f, "%zu", &v) != 1) exit(2);
    return v;
}

static int close_enough(float got, float want) { return fabsf(got - want) <= TOLERANCE; }

static int run_forward(const pf_model *m, FILE *f) {
    uint32_t src[256], tgt[256];
    size_t src_len = read_seq(f, src, 256), tgt_len = read_seq(f, tgt, 256);
    size_t vocab = read_size(f), n = tgt_len * vocab, scratch_len = 0;
    float *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    for (size_t i = 0; i < n; i++) want[i] = read_float(f);
    CHECK_STATUS(pf_forward_scratch_bytes(m, &scratch_len), PF_OK);
    void *scratch = xaligned(scratch_len);
    int32_t s = pf_forward(m, src, src_len, tgt, tgt_len, got, n, scratch, scratch_len);
    int ok = s == PF_OK;
    if (!ok) snprintf(failure, sizeof failure, "pf_forward: %s", pf_status_message(s));
    for (size_t i = 0; ok && i < n; i++)
        if (!close_enough(got[i], want[i])) {
            snprintf(failure, sizeof failure, "logit %zu: %.7g vs PyTorch %.7g", i, got[i],
                     want[i]);
            ok = 0;
        }
    free(scratch);
    free(want);
    free(got);
    return ok;
}

static int run_greedy(const pf_model *m, FILE *f) {
    uint32_t src[256], want[256], tokens[256];
    size_t src_len = read_seq(f, src, 256), max_len = read_size(f);
    size_t want_len = read_seq(f, want, 256), len = 0, scratch_len = 0;
    float want_score = read_float(f), score = 0;
    CHECK_STATUS(pf_greedy_scratch_bytes(m, &scratch_len), PF_OK);
    void *scratch = xaligned(scratch_len);
    int32_t s = pf_greedy(m, src, src_len, max_len, tokens, max_len, &len, &score, scratch,
                          scratch_len);
    free(scratch);
    if (s != PF_OK) FAIL("pf_greedy: %s", pf_status_message(s));
    if (len != want_len || memcmp(tokens, want, len * sizeof *tokens) != 0)
        FAIL("tokens differ from PyTorch's (%zu vs %zu tokens)", len, want_len);
    if (!close_enough(score, want_score)) FAIL("score %.7g vs %.7g", score, want_score);
    return 1;
}

static int run_beam(const pf_model *m, FILE *f) {
    uint32_t src[256], want[64][256];
    size_t want_len[64];
    float want_score[64];
    size_t src_len = read_seq(f, src, 256);
    pf_beam_params p;
    p.beam = (uint32_t)read_size(f);
    p.top = (uint32_t)read_size(f);
    p.alpha = read_float(f);
    p.max_len = (uint32_t)read_size(f);
    size_t k = read_size(f);
    for (size_t i = 0; i < k; i++) {
        want_len[i] = read_seq(f, want[i], 256);
        want_score[i] = read_float(f);
    }
    size_t scratch_len = 0, count = 0;
    CHECK_STATUS(pf_beam_scratch_bytes(m, p.beam, &scratch_len), PF_OK);
    void *scratch = xaligned(scratch_len);
    uint32_t *tokens = malloc(p.top * p.max_len * sizeof *tokens);
    size_t *lengths = malloc(p.top * sizeof *lengths);
    float *scores = malloc(p.top * sizeof *scores);
    int32_t s = pf_beam_search(m, src, src_len, p, tokens, p.top * p.max_len, lengths, p.top,
                               scores, p.top, &count, scratch, scratch_len);
    int ok = s == PF_OK;
    if (!ok) snprintf(failure, sizeof failure, "pf_beam_search: %s", pf_status_message(s));
    if (ok && count != k) {
        snprintf(failure, sizeof failure, "%zu hypotheses, PyTorch has %zu", count, k);
        ok = 0;
    }
    for (size_t i = 0; ok && i < k; i++) {
        const uint32_t *row = tokens + i * p.max_len;
        if (lengths[i] != want_len[i] || memcmp(row, want[i], want_len[i] * sizeof *row)) {
            snprintf(failure, sizeof failure, "hypothesis %zu's tokens differ", i);
            ok = 0;
        } else if (!close_enough(scores[i], want_score[i])) {
            snprintf(failure, sizeof failure, "hypothesis %zu: score %.7g vs %.7g", i,
                     scores[i], want_score[i]);
            ok = 0;
        }
    }
    free(scratch);
    free(tokens);
    free(lengths);
    free(scores);
    return ok;
}

static int t_generate_bad_input(const pf_model *m, const uint32_t *prompt, size_t prompt_len,
                                size_t steps);
static int generate_bad_input_done;

static int run_generate(const pf_model *m, FILE *f) {
    uint32_t prompt[512], want[512], tokens[512];
    size_t prompt_len = read_seq(f, prompt, 512), steps = read_size(f);
    pf_sampling_params p;
    p.temperature = read_float(f);
    p.top_p = read_float(f);
    unsigned long long seed = 0;
    if (fscanf(f, "%llu", &seed) != 1) exit(2);
    p.seed = seed;
    size_t want_len = read_seq(f, want, 512), len = 0, scratch_len = 0;
    if (steps > 512) FAIL("steps %zu over the test's 512", steps);
    CHECK_STATUS(pf_generate_scratch_bytes(m, &scratch_len), PF_OK);
    void *scratch = xaligned(scratch_len);
    int32_t s = pf_generate(m, prompt, prompt_len, steps, p, tokens, steps, &len, scratch,
                            scratch_len);
    free(scratch);
    if (s != PF_OK) FAIL("pf_generate: %s", pf_status_message(s));
    if (len != want_len || memcmp(tokens, want, len * sizeof *tokens) != 0)
        FAIL("tokens differ from PyTorch's (%zu vs %zu tokens, temperature %g)", len, want_len,
             p.temperature);
    if (!generate_bad_input_done) {
        generate_bad_input_done = 1;
        report("bad_input/generate", t_generate_bad_input(m, prompt, prompt_len, steps));
    }
    return 1;
}

static void run_golden(const char *model_path, const char *cases_path) {
    char name[256];
    const char *base = strrchr(model_path, '/');
    base = base ? base + 1 : model_path;
    struct blob b = read_blob(model_path);
    pf_model m;
    int32_t s = pf_model_init(&m, b.bytes, b.len);
    snprintf(name, sizeof name, "%s/init", base);
    snprintf(failure, sizeof failure, "pf_model_init: %s", pf_status_message(s));
    report(name, s == PF_OK);
    if (s != PF_OK) return;
    FILE *f = fopen(cases_path, "r");
    if (!f) {
        perror(cases_path);
        exit(2);
    }
    char kind[16];
    int index[4] = {0, 0, 0, 0};
    while (fscanf(f, "%15s", kind) == 1) {
        int ok, which;
        if (!strcmp(kind, "forward")) {
            which = 0;
            ok = run_forward(&m, f);
        } else if (!strcmp(kind, "greedy")) {
            which = 1;
            ok = run_greedy(&m, f);
        } else if (!strcmp(kind, "beam")) {
            which = 2;
            ok = run_beam(&m, f);
        } else if (!strcmp(kind, "generate")) {
            which = 3;
            ok = run_generate(&m, f);
        } else {
            fprintf(stderr, "%s: unknown case %s\n", cases_path, kind);
            exit(2);
        }
        snprintf(name, sizeof name, "%s/%s/%d", base, kind, index[which]++);
        report(name, ok);
    }
    fclose(f);
    free(b.bytes);
}

/* ---- bad input, on paper_small ---- */

static const uint32_t SRC[] = {5, 9, 12, 40};
#define SRC_LEN (sizeof SRC / sizeof SRC[0])

static int t_config(void) {
    pf_config c;
    CHECK_STATUS(pf_model_config(&g_model, &c), PF_OK);
    if (c.d_model != 64 || c.n_heads != 4 || c.d_ff != 256 || c.n_encoder_layers != 2 ||
        c.n_decoder_layers != 2 || c.src_vocab != 61 || c.tgt_vocab != 67 ||
        c.max_src_len != 24 || c.max_tgt_len != 16 || c.norm != PF_NORM_POST ||
        c.activation != PF_ACTIVATION_RELU || c.positional != PF_POSITIONAL_SINUSOIDAL ||
        !c.final_norm || c.tie_output || !c.scale_embeddings || c.bos_id != 1 || c.eos_id != 2)
        FAIL("config differs from tests/golden/paper_small/config.json");
    if (c.parameter_count == 0) FAIL("no parameters");
    CHECK_STATUS(pf_model_config(&g_model, NULL), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_model_config(NULL, &c), PF_ERR_NULL_POINTER);
    return 1;
}

static int t_scratch_sizes(void) {
    size_t n = 0;
    /* the numbers docs/memory.md gives for paper_small */
    CHECK_STATUS(pf_greedy_scratch_bytes(&g_model, &n), PF_OK);
    if (n != 79968) FAIL("greedy scratch %zu, docs/memory.md says 79968", n);
    CHECK_STATUS(pf_beam_scratch_bytes(&g_model, 4, &n), PF_OK);
    if (n != 133984) FAIL("beam-4 scratch %zu, docs/memory.md says 133984", n);
    size_t e = 0;
    CHECK_STATUS(pf_encode_scratch_bytes(&g_model, &e), PF_OK);
    if (e == 0 || e > 79968) FAIL("encode scratch %zu", e);
    CHECK_STATUS(pf_beam_scratch_bytes(&g_model, 0, &n), PF_ERR_BEAM_SIZE_OUT_OF_RANGE);
    CHECK_STATUS(pf_beam_scratch_bytes(&g_model, 65, &n), PF_ERR_BEAM_SIZE_OUT_OF_RANGE);
    CHECK_STATUS(pf_greedy_scratch_bytes(&g_model, NULL), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_beam_scratch_bytes(NULL, 4, &n), PF_ERR_NULL_POINTER);
    return 1;
}

static int t_init_null(void) {
    pf_model m;
    CHECK_STATUS(pf_model_init(NULL, g_blob.bytes, g_blob.len), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_model_init(&m, NULL, g_blob.len), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_model_init(&m, NULL, 0), PF_ERR_NULL_POINTER);
    return 1;
}

/* A copy of the blob with one u32 of the header or table changed, loaded without its
   checksums (pf_model_init_verified), so that the edit is what is refused. */
static int corrupt_status(size_t offset, uint32_t value, size_t len, int32_t want) {
    uint8_t *copy = xaligned(g_blob.len);
    memcpy(copy, g_blob.bytes, g_blob.len);
    memcpy(copy + offset, &value, sizeof value);
    pf_model m;
    int32_t s = pf_model_init_verified(&m, copy, len);
    int32_t use = PF_OK;
    size_t n = 0;
    if (s != PF_OK) use = pf_greedy_scratch_bytes(&m, &n); /* the failed handle */
    free(copy);
    CHECK_STATUS(s, want);
    CHECK_STATUS(use, PF_ERR_INVALID_HANDLE);
    return 1;
}

static int t_corrupt_blob(void) {
    uint32_t magic;
    memcpy(&magic, g_blob.bytes, 4);
    if (!corrupt_status(0, magic ^ 0xff, g_blob.len, PF_ERR_BAD_MAGIC)) return 0;
    if (!corrupt_status(8, 99, g_blob.len, PF_ERR_UNSUPPORTED_VERSION)) return 0;
    if (!corrupt_status(20, 7, g_blob.len, PF_ERR_UNSUPPORTED_DTYPE)) return 0;
    if (!corrupt_status(28, 3, g_blob.len, PF_ERR_INVALID_CONFIG)) return 0; /* 64 % 3 heads */
    /* table entry 0's offset far past the end */
    if (!corrupt_status(144 + 8, 0x7ffffff0u, g_blob.len, PF_ERR_TENSOR_OUT_OF_BOUNDS))
        return 0;
    /* table entry 0's element count */
    if (!corrupt_status(144 + 12, 5, g_blob.len, PF_ERR_TENSOR_SHAPE)) return 0;
    /* an f32 blob relabelled f16: its matrices span twice their f16 size */
    if (!corrupt_status(20, 1, g_blob.len, PF_ERR_TENSOR_SIZE)) return 0;
    return 1;
}

/* One bit flipped at `offset`: pf_model_init answers `want`, pf_model_init_verified
   `want_verified` (it does not compute the checksums). */
static int flipped_status(size_t offset, int32_t want, int32_t want_verified) {
    uint8_t *copy = xaligned(g_blob.len);
    memcpy(copy, g_blob.bytes, g_blob.len);
    copy[offset] ^= 0x04;
    pf_model m;
    int32_t s = pf_model_init(&m, copy, g_blob.len);
    int32_t v = pf_model_init_verified(&m, copy, g_blob.len);
    free(copy);
    CHECK_STATUS(s, want);
    CHECK_STATUS(v, want_verified);
    return 1;
}

static int t_checksums(void) {
    uint32_t header_len;
    memcpy(&header_len, g_blob.bytes + 12, 4);
    /* layer_norm_eps: a field the other checks accept */
    if (!flipped_status(72, PF_ERR_HEADER_CHECKSUM, PF_OK)) return 0;
    if (!flipped_status(header_len + 4, PF_ERR_DATA_CHECKSUM, PF_OK)) return 0;
    if (!flipped_status(g_blob.len - 1, PF_ERR_DATA_CHECKSUM, PF_OK)) return 0;
    return 1;
}

static int t_truncated_blob(void) {
    pf_model m;
    CHECK_STATUS(pf_model_init(&m, g_blob.bytes, g_blob.len - 16), PF_ERR_BLOB_TRUNCATED);
    CHECK_STATUS(pf_model_init(&m, g_blob.bytes, 64), PF_ERR_BLOB_TRUNCATED);
    CHECK_STATUS(pf_model_init(&m, g_blob.bytes, 0), PF_ERR_BLOB_TRUNCATED);
    return 1;
}

static int t_misaligned_blob(void) {
    uint8_t *copy = xaligned(g_blob.len + 16);
    memcpy(copy + 4, g_blob.bytes, g_blob.len);
    pf_model m;
    int32_t s = pf_model_init(&m, copy + 4, g_blob.len);
    free(copy);
    CHECK_STATUS(s, PF_ERR_BLOB_MISALIGNED);
    return 1;
}

static int t_handles(void) {
    pf_model zero;
    memset(&zero, 0, sizeof zero);
    size_t n;
    CHECK_STATUS(pf_greedy_scratch_bytes(&zero, &n), PF_ERR_INVALID_HANDLE);
    /* a handle at a misaligned address */
    static uint8_t raw[sizeof(pf_model) + 8] __attribute__((aligned(8)));
    pf_model *odd = (pf_model *)(void *)(raw + 4);
    CHECK_STATUS(pf_model_init(odd, g_blob.bytes, g_blob.len), PF_ERR_MISALIGNED_POINTER);
    /* a copied handle works */
    pf_model copy;
    memcpy(&copy, &g_model, sizeof copy);
    CHECK_STATUS(pf_greedy_scratch_bytes(&copy, &n), PF_OK);
    return 1;
}

/* greedy with everything right except what each check changes */
struct greedy_args {
    const pf_model *m;
    const uint32_t *src;
    size_t src_len, max_len;
    uint32_t *tokens;
    size_t tokens_len;
    size_t *out_len;
    float *out_score;
    void *scratch;
    size_t scratch_len;
};

static int32_t call_greedy(struct greedy_args a) {
    return pf_greedy(a.m, a.src, a.src_len, a.max_len, a.tokens, a.tokens_len, a.out_len,
                     a.out_score, a.scratch, a.scratch_len);
}

static int t_greedy_bad_input(void) {
    size_t need = 0, len = 777;
    float score = 7.0f;
    CHECK_STATUS(pf_greedy_scratch_bytes(&g_model, &need), PF_OK);
    uint8_t *scratch = xaligned(need + 16);
    uint32_t tokens[17];
    for (int i = 0; i < 17; i++) tokens[i] = 0xabababab;
    const struct greedy_args ok = {&g_model, SRC, SRC_LEN, 16, tokens, 16, &len,
                                   &score, scratch, need};
    struct greedy_args a;
    uint32_t bad_src[] = {5, 61, 12}; /* src_vocab is 61 */
    uint32_t long_src[25] = {0};
    int result = 0;

#define EXPECT(modify, want)                                       \
    do {                                                           \
        a = ok;                                                    \
        modify;                                                    \
        EXPECT_OR_OUT(call_greedy(a), #modify, want);          \
    } while (0)

    EXPECT(a.m = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.src = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.tokens = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.out_len = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.out_score = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.scratch = NULL, PF_ERR_NULL_POINTER);
    EXPECT((a.src = NULL, a.src_len = 0), PF_ERR_EMPTY_SEQUENCE);
    EXPECT((a.src = bad_src, a.src_len = 3), PF_ERR_TOKEN_OUT_OF_RANGE);
    EXPECT((a.src = long_src, a.src_len = 25), PF_ERR_SEQUENCE_TOO_LONG);
    EXPECT(a.max_len = 0, PF_ERR_MAX_LEN_OUT_OF_RANGE);
    EXPECT((a.max_len = 17, a.tokens_len = 17), PF_ERR_MAX_LEN_OUT_OF_RANGE);
    EXPECT(a.tokens_len = 15, PF_ERR_OUTPUT_TOO_SMALL);
    EXPECT(a.scratch_len = need - 1, PF_ERR_SCRATCH_TOO_SMALL);
    EXPECT((a.scratch = NULL, a.scratch_len = 0), PF_ERR_SCRATCH_TOO_SMALL);
    EXPECT(a.scratch = scratch + 4, PF_ERR_SCRATCH_MISALIGNED);
    EXPECT(a.tokens = (uint32_t *)(void *)((uint8_t *)tokens + 1), PF_ERR_MISALIGNED_POINTER);
    EXPECT(a.src_len = SIZE_MAX / 2, PF_ERR_BAD_LENGTH);
    EXPECT(a.tokens = (uint32_t *)(void *)scratch, PF_ERR_OVERLAP);
    EXPECT(a.out_len = (size_t *)(void *)(scratch + 64), PF_ERR_OVERLAP);
    EXPECT(a.scratch = (void *)g_blob.bytes, PF_ERR_OVERLAP); /* would overwrite weights */

    /* every failure above left the outputs untouched */
    for (int i = 0; i < 17; i++)
        if (tokens[i] != 0xabababab) {
            snprintf(failure, sizeof failure, "a failed call wrote tokens[%d]", i);
            goto out;
        }
    if (len != 777 || score != 7.0f) {
        snprintf(failure, sizeof failure, "a failed call wrote out_len/out_score");
        goto out;
    }
    /* and the unchanged arguments work */
    a = ok;
    if (call_greedy(a) != PF_OK || len == 0 || len > 16) {
        snprintf(failure, sizeof failure, "the good call failed");
        goto out;
    }
    result = 1;
out:
    free(scratch);
    return result;
#undef EXPECT
}

struct generate_args {
    const pf_model *m;
    const uint32_t *prompt;
    size_t prompt_len, steps;
    pf_sampling_params params;
    uint32_t *tokens;
    size_t tokens_len;
    size_t *out_len;
    void *scratch;
    size_t scratch_len;
};

static int32_t call_generate(struct generate_args a) {
    return pf_generate(a.m, a.prompt, a.prompt_len, a.steps, a.params, a.tokens, a.tokens_len,
                       a.out_len, a.scratch, a.scratch_len);
}

/* pf_generate's bad input, on a llama model (`prompt` one of its golden prompts). */
static int t_generate_bad_input(const pf_model *m, const uint32_t *prompt, size_t prompt_len,
                                size_t steps) {
    size_t need = 0, len = 777;
    pf_config c;
    CHECK_STATUS(pf_model_config(m, &c), PF_OK);
    CHECK_STATUS(pf_generate_scratch_bytes(m, &need), PF_OK);
    CHECK_STATUS(pf_generate_scratch_bytes(m, NULL), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_generate_scratch_bytes(NULL, &need), PF_ERR_NULL_POINTER);
    uint8_t *scratch = xaligned(need + 16);
    size_t room = c.max_tgt_len + 2; /* past every steps value tried */
    uint32_t *tokens = malloc(room * sizeof *tokens);
    uint32_t *long_prompt = calloc(room, sizeof *long_prompt);
    for (size_t i = 0; i < room; i++) tokens[i] = 0xabababab;
    const pf_sampling_params greedy = {0.0f, 0.9f, 1};
    const struct generate_args ok = {m, prompt, prompt_len, steps, greedy, tokens, steps,
                                     &len, scratch, need};
    struct generate_args a;
    uint32_t bad_prompt[] = {1, c.tgt_vocab};
    int result = 0;

#define EXPECT(modify, want)                                       \
    do {                                                           \
        a = ok;                                                    \
        modify;                                                    \
        EXPECT_OR_OUT(call_generate(a), #modify, want);        \
    } while (0)

    EXPECT(a.m = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.m = &g_model, PF_ERR_EMPTY_SEQUENCE); /* an encoder-decoder model needs a source */
    EXPECT(a.prompt = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.tokens = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.out_len = NULL, PF_ERR_NULL_POINTER);
    EXPECT(a.scratch = NULL, PF_ERR_NULL_POINTER);
    EXPECT((a.prompt = NULL, a.prompt_len = 0), PF_ERR_EMPTY_SEQUENCE);
    EXPECT((a.prompt = bad_prompt, a.prompt_len = 2), PF_ERR_TOKEN_OUT_OF_RANGE);
    EXPECT((a.prompt = long_prompt, a.prompt_len = c.max_tgt_len + 1), PF_ERR_SEQUENCE_TOO_LONG);
    EXPECT(a.steps = 0, PF_ERR_MAX_LEN_OUT_OF_RANGE);
    EXPECT((a.steps = c.max_tgt_len + 2 - prompt_len, a.tokens_len = a.steps),
           PF_ERR_MAX_LEN_OUT_OF_RANGE);
    EXPECT(a.tokens_len = steps - 1, PF_ERR_OUTPUT_TOO_SMALL);
    EXPECT(a.params.seed = 0, PF_ERR_INVALID_SAMPLING);
    EXPECT(a.params.temperature = -1.0f, PF_ERR_INVALID_SAMPLING);
    EXPECT(a.params.temperature = NAN, PF_ERR_INVALID_SAMPLING);
    EXPECT(a.params.top_p = INFINITY, PF_ERR_INVALID_SAMPLING);
    /* Scratch is sized for the request: one that fills every position needs all of
       pf_generate_scratch_bytes. */
    EXPECT((a.steps = c.max_tgt_len + 1 - prompt_len, a.tokens_len = a.steps,
            a.scratch_len = need - 1),
           PF_ERR_SCRATCH_TOO_SMALL);
    EXPECT((a.scratch = NULL, a.scratch_len = 0), PF_ERR_SCRATCH_TOO_SMALL);
    EXPECT(a.scratch = scratch + 4, PF_ERR_SCRATCH_MISALIGNED);
    EXPECT(a.tokens = (uint32_t *)(void *)((uint8_t *)tokens + 1), PF_ERR_MISALIGNED_POINTER);
    EXPECT(a.prompt_len = SIZE_MAX / 2, PF_ERR_BAD_LENGTH);
    EXPECT(a.tokens = (uint32_t *)(void *)scratch, PF_ERR_OVERLAP);
    EXPECT(a.out_len = (size_t *)(void *)(scratch + 64), PF_ERR_OVERLAP);
    EXPECT(a.prompt = (const uint32_t *)(void *)scratch, PF_ERR_OVERLAP);

    /* every failure above left the outputs untouched */
    for (size_t i = 0; i < room; i++)
        if (tokens[i] != 0xabababab) {
            snprintf(failure, sizeof failure, "a failed call wrote tokens[%zu]", i);
            goto out;
        }
    if (len != 777) {
        snprintf(failure, sizeof failure, "a failed call wrote out_len");
        goto out;
    }
    /* and the unchanged arguments work */
    a = ok;
    if (call_generate(a) != PF_OK || len == 0 || len > steps) {
        snprintf(failure, sizeof failure, "the good call failed");
        goto out;
    }
    result = 1;
out:
    free(scratch);
    free(tokens);
    free(long_prompt);
    return result;
#undef EXPECT
}

static int t_beam_bad_input(void) {
    size_t need = 0, count = 99;
    CHECK_STATUS(pf_beam_scratch_bytes(&g_model, 4, &need), PF_OK);
    uint8_t *scratch = xaligned(need);
    uint32_t tokens[2 * 16];
    size_t lengths[3];
    float scores[3];
    pf_beam_params p = {4, 2, 16, 0.6f}, q;
    int result = 0;
#define BEAM(params, tl, ll, sl, sc, want)                                                 \
    do {                                                                                   \
        q = p;                                                                             \
        params;                                                                            \
        EXPECT_OR_OUT(pf_beam_search(&g_model, SRC, SRC_LEN, q, tokens, tl, lengths, ll,  \
                                     scores, sl, &count, sc, need),                        \
                      #params, want);                                                      \
    } while (0)
    BEAM((void)0, 32, 2, 2, scratch, PF_OK);
    if (count != 2) {
        snprintf(failure, sizeof failure, "count %zu", count);
        goto out;
    }
    BEAM(q.beam = 0, 32, 2, 2, scratch, PF_ERR_BEAM_SIZE_OUT_OF_RANGE);
    BEAM(q.beam = 65, 32, 2, 2, scratch, PF_ERR_BEAM_SIZE_OUT_OF_RANGE);
    BEAM(q.top = 0, 32, 2, 2, scratch, PF_ERR_TOP_BEAMS_OUT_OF_RANGE);
    BEAM(q.top = 5, 32, 2, 2, scratch, PF_ERR_TOP_BEAMS_OUT_OF_RANGE);
    BEAM(q.alpha = NAN, 32, 2, 2, scratch, PF_ERR_INVALID_LENGTH_PENALTY);
    BEAM(q.alpha = -1.0f, 32, 2, 2, scratch, PF_ERR_INVALID_LENGTH_PENALTY);
    BEAM(q.max_len = 17, 32, 2, 2, scratch, PF_ERR_MAX_LEN_OUT_OF_RANGE);
    BEAM((void)0, 31, 2, 2, scratch, PF_ERR_OUTPUT_TOO_SMALL);
    BEAM((void)0, 32, 1, 2, scratch, PF_ERR_OUTPUT_TOO_SMALL);
    BEAM((void)0, 32, 2, 1, scratch, PF_ERR_OUTPUT_TOO_SMALL);
    BEAM(q.beam = 5, 32, 2, 2, scratch, PF_ERR_SCRATCH_TOO_SMALL); /* sized for beam 4 */
    BEAM((void)0, 32, 2, 2, NULL, PF_ERR_NULL_POINTER);
    /* top 3: K * max_len = 48 tokens > 32 */
    BEAM((q.beam = 3, q.top = 3), 32, 3, 3, scratch, PF_ERR_OUTPUT_TOO_SMALL);
    result = 1;
out:
    free(scratch);
    return result;
#undef BEAM
}

static int t_forward_encode_bad_input(void) {
    size_t need = 0, enc_need = 0;
    CHECK_STATUS(pf_forward_scratch_bytes(&g_model, &need), PF_OK);
    CHECK_STATUS(pf_encode_scratch_bytes(&g_model, &enc_need), PF_OK);
    uint8_t *scratch = xaligned(need);
    uint32_t tgt[] = {1, 7, 8}, bad_tgt[] = {1, 67};
    float *logits = malloc(3 * 67 * sizeof *logits);
    float *enc = malloc(SRC_LEN * 64 * sizeof *enc);
    int result = 0;
#define EXPECT(call, want) EXPECT_OR_OUT(call, #call, want)
    EXPECT(pf_forward(&g_model, SRC, SRC_LEN, tgt, 3, logits, 3 * 67, scratch, need), PF_OK);
    EXPECT(pf_forward(&g_model, SRC, SRC_LEN, tgt, 3, logits, 3 * 67 - 1, scratch, need),
           PF_ERR_OUTPUT_TOO_SMALL);
    EXPECT(pf_forward(&g_model, SRC, SRC_LEN, bad_tgt, 2, logits, 3 * 67, scratch, need),
           PF_ERR_TOKEN_OUT_OF_RANGE);
    EXPECT(pf_forward(&g_model, SRC, SRC_LEN, NULL, 0, logits, 3 * 67, scratch, need),
           PF_ERR_EMPTY_SEQUENCE);
    EXPECT(pf_forward(&g_model, SRC, SRC_LEN, NULL, 3, logits, 3 * 67, scratch, need),
           PF_ERR_NULL_POINTER);
    EXPECT(pf_forward(&g_model, SRC, SRC_LEN, tgt, 3, logits, 3 * 67, scratch + 8, need - 8),
           PF_ERR_SCRATCH_MISALIGNED);
    EXPECT(pf_encode(&g_model, SRC, SRC_LEN, enc, SRC_LEN * 64, scratch, enc_need), PF_OK);
    EXPECT(pf_encode(&g_model, SRC, SRC_LEN, enc, SRC_LEN * 64, scratch, enc_need - 1),
           PF_ERR_SCRATCH_TOO_SMALL);
    EXPECT(pf_encode(&g_model, SRC, SRC_LEN, enc, SRC_LEN * 64 - 1, scratch, need),
           PF_ERR_OUTPUT_TOO_SMALL);
    EXPECT(pf_encode(&g_model, SRC, SRC_LEN, NULL, SRC_LEN * 64, scratch, need),
           PF_ERR_NULL_POINTER);
    EXPECT(pf_encode(&g_model, SRC, SRC_LEN, enc, SRC_LEN * 64, scratch, 100),
           PF_ERR_SCRATCH_TOO_SMALL);
    result = 1;
out:
    free(scratch);
    free(logits);
    free(enc);
    return result;
#undef EXPECT
}

static int t_status_messages(void) {
    const char *unknown = pf_status_message(-12345);
    if (!unknown || strstr(unknown, "unknown") == NULL) FAIL("unknown code message");
    if (strcmp(pf_status_message(PF_OK), "ok") != 0) FAIL("PF_OK message");
    for (int32_t c = 1; c <= 24; c++) {
        const char *msg = pf_status_message(c);
        if (!msg || !*msg || msg == unknown || !strcmp(msg, unknown))
            FAIL("no message for status %d", c);
    }
    for (int32_t c = PF_ERR_NULL_POINTER; c <= PF_ERR_PANIC; c++)
        if (!strcmp(pf_status_message(c), unknown)) FAIL("no message for status %d", c);
    if (!pf_version() || !*pf_version()) FAIL("no version");
    return 1;
}

static int t_files(const char *model_path) {
    size_t n = 0, got = 0;
    uint8_t small[64] __attribute__((aligned(16)));
    CHECK_STATUS(pf_file_size("/nonexistent/model.pfm", &n), PF_ERR_IO);
    CHECK_STATUS(pf_file_size(NULL, &n), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_file_size(model_path, NULL), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_read_file(model_path, small, sizeof small, &got), PF_ERR_OUTPUT_TOO_SMALL);
    CHECK_STATUS(pf_read_file(model_path, NULL, 16, &got), PF_ERR_NULL_POINTER);
    CHECK_STATUS(pf_read_file("/nonexistent/model.pfm", small, sizeof small, &got), PF_ERR_IO);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc % 2 != 1) {
        fprintf(stderr, "usage: %s MODEL.pfm CASES.txt [MODEL.pfm CASES.txt ...]\n", argv[0]);
        return 2;
    }
    printf("picoformer %s C API\n", pf_version());
    /* (loaded first: pf_generate's bad-input test, run with the llama cases, uses it) */
    g_blob = read_blob(argv[1]);
    if (pf_model_init(&g_model, g_blob.bytes, g_blob.len) != PF_OK) {
        fprintf(stderr, "%s does not load\n", argv[1]);
        return 2;
    }
    for (int i = 1; i + 1 < argc; i += 2) run_golden(argv[i], argv[i + 1]);
    if (!generate_bad_input_done) report("bad_input/generate (no llama case given)", 0);
    report("bad_input/config", t_config());
    report("bad_input/scratch_sizes", t_scratch_sizes());
    report("bad_input/init_null", t_init_null());
    report("bad_input/corrupt_blob", t_corrupt_blob());
    report("bad_input/checksums", t_checksums());
    report("bad_input/truncated_blob", t_truncated_blob());
    report("bad_input/misaligned_blob", t_misaligned_blob());
    report("bad_input/handles", t_handles());
    report("bad_input/greedy", t_greedy_bad_input());
    report("bad_input/beam", t_beam_bad_input());
    report("bad_input/forward_encode", t_forward_encode_bad_input());
    report("bad_input/status_messages", t_status_messages());
    report("bad_input/files", t_files(argv[1]));
    free(g_blob.bytes);

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
