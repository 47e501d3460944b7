/*
 * Bare-metal C firmware on picoformer's C API (QEMU mps2-an386, Cortex-M4F): the model
 * blob sits in flash and is read in place, the scratch buffer is a static array, nothing
 * is allocated. Runs a golden greedy decode and a golden beam search (PyTorch's tokens,
 * scores within 1e-4), prints the tokens, checks a few bad inputs, then ends with
 * "N passed, N failed" and exits through semihosting (non-zero on any failure).
 */
#include "picoformer.h"
#include "golden.h" /* generated from tests/golden/NAME/expected.json */
#include "semihosting.h"

/* The model blob, linked into flash, 16-byte aligned (the Makefile puts the .pfm file
 * at build/model.pfm, where the assembler finds it). */
__asm__(".section .rodata.model,\"a\",%progbits\n"
        ".balign 16\n"
        ".global model_blob\n"
        "model_blob:\n"
        ".incbin \"model.pfm\"\n"
        ".global model_blob_end\n"
        "model_blob_end:\n"
        ".previous\n");
extern const uint8_t model_blob[], model_blob_end[];

/* Scratch: any 16-byte aligned memory at least pf_*_scratch_bytes() long. */
static uint8_t scratch[192 * 1024] __attribute__((aligned(16)));
static pf_model model;

static int passed, failed;

static void put_uint(uint32_t v) {
    char buf[12];
    int i = sizeof buf - 1;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    sh_puts(&buf[i]);
}

static void put_tokens(const char *label, const uint32_t *tokens, size_t len) {
    sh_puts(label);
    for (size_t i = 0; i < len; i++) {
        sh_puts(i ? " " : "");
        put_uint(tokens[i]);
    }
    sh_puts("\n");
}

static void report(const char *name, int ok, int32_t status) {
    sh_puts("test ");
    sh_puts(name);
    if (ok) {
        passed++;
        sh_puts(" ... ok\n");
    } else {
        failed++;
        sh_puts(" ... FAILED (");
        sh_puts(pf_status_message(status));
        sh_puts(")\n");
    }
}

static int near(float a, float b) {
    float d = a - b;
    return d <= 1e-4f && d >= -1e-4f;
}

static int same_tokens(const uint32_t *a, const uint32_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

#define COUNT(array) (sizeof(array) / sizeof((array)[0]))

static void test_greedy(void) {
    size_t need = 0, len = 0;
    float score = 0;
    uint32_t tokens[GREEDY_MAX_LEN];
    int32_t s = pf_greedy_scratch_bytes(&model, &need);
    if (s == PF_OK && need > sizeof scratch) s = PF_ERR_SCRATCH_TOO_SMALL;
    if (s == PF_OK)
        s = pf_greedy(&model, GREEDY_SRC, COUNT(GREEDY_SRC), GREEDY_MAX_LEN, tokens,
                      COUNT(tokens), &len, &score, scratch, need);
    if (s == PF_OK) put_tokens("greedy tokens: ", tokens, len);
    report("golden_greedy",
           s == PF_OK && len == COUNT(GREEDY_TOKENS) &&
               same_tokens(tokens, GREEDY_TOKENS, len) && near(score, GREEDY_SCORE),
           s);
}

static void test_beam(void) {
    size_t need = 0, count = 0, lengths[BEAM_TOP];
    float scores[BEAM_TOP];
    uint32_t tokens[BEAM_TOP * BEAM_MAX_LEN];
    pf_beam_params params = {BEAM_SIZE, BEAM_TOP, BEAM_MAX_LEN, BEAM_ALPHA};
    int32_t s = pf_beam_scratch_bytes(&model, BEAM_SIZE, &need);
    if (s == PF_OK && need > sizeof scratch) s = PF_ERR_SCRATCH_TOO_SMALL;
    if (s == PF_OK)
        s = pf_beam_search(&model, BEAM_SRC, COUNT(BEAM_SRC), params, tokens, COUNT(tokens),
                           lengths, BEAM_TOP, scores, BEAM_TOP, &count, scratch, need);
    int ok = s == PF_OK && count == BEAM_COUNT;
    for (size_t k = 0; ok && k < count; k++) {
        put_tokens("beam tokens: ", tokens + k * BEAM_MAX_LEN, lengths[k]);
        ok = lengths[k] == BEAM_LENGTHS[k] &&
             same_tokens(tokens + k * BEAM_MAX_LEN, BEAM_TOKENS[k], lengths[k]) &&
             near(scores[k], BEAM_SCORES[k]);
    }
    report("golden_beam", ok, s);
}

static void test_bad_input(void) {
    size_t len = 0, need = 0;
    float score;
    uint32_t tokens[4];
    const uint32_t src[] = {1, 2, 3};
    pf_model fresh;
    int ok = 1;
    int32_t s = pf_greedy_scratch_bytes(&model, &need);
    ok &= s == PF_OK;
    ok &= pf_model_init(&fresh, model_blob + 16, (size_t)(model_blob_end - model_blob) - 16) ==
          PF_ERR_BAD_MAGIC;
    ok &= pf_model_init(&fresh, model_blob + 4, 64) == PF_ERR_BLOB_MISALIGNED;
    ok &= pf_greedy(&model, 0, 3, 4, tokens, 4, &len, &score, scratch, need) ==
          PF_ERR_NULL_POINTER;
    ok &= pf_greedy(&model, src, 3, 4, tokens, 4, &len, &score, scratch + 4, need) ==
          PF_ERR_SCRATCH_MISALIGNED;
    /* Scratch is sized for the request: one that fills every target position needs all
       of pf_greedy_scratch_bytes. */
    static uint32_t full[64];
    pf_config c;
    ok &= pf_model_config(&model, &c) == PF_OK && c.max_tgt_len <= COUNT(full);
    ok &= pf_greedy(&model, src, 3, c.max_tgt_len, full, COUNT(full), &len, &score, scratch,
                    need - 16) == PF_ERR_SCRATCH_TOO_SMALL;
    ok &= pf_greedy(&model, src, 3, 5, tokens, 4, &len, &score, scratch, need) ==
          PF_ERR_OUTPUT_TOO_SMALL;
    report("bad_input", ok, PF_OK);
}

int main(void) {
    sh_puts("picoformer ");
    sh_puts(pf_version());
    sh_puts(" from C on Cortex-M4F\n");
    int32_t s = pf_model_init(&model, model_blob, (size_t)(model_blob_end - model_blob));
    report("model_init", s == PF_OK, s);
    if (s == PF_OK) {
        test_greedy();
        test_beam();
        test_bad_input();
    }
    put_uint((uint32_t)passed);
    sh_puts(" passed, ");
    put_uint((uint32_t)failed);
    sh_puts(" failed\n");
    return failed ? 1 : 0;
}
