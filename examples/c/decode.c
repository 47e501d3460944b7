/*
 * Decode with picoformer from C on the host: greedy, then beam search.
 *
 *   cargo build -p picoformer-ffi --release
 *   gcc -std=c11 -Iinclude examples/c/decode.c target/release/libpicoformer_ffi.a \
 *       -lpthread -ldl -lm -o decode
 *   ./decode target/paper_small.pfm 5,9,12,40
 *
 * Nothing here is allocated by the library: the blob buffer, the handle, the scratch
 * buffer and the outputs are all this program's.
 */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#define PICOFORMER_STD /* declares pf_file_size / pf_read_file (host builds) */
#include "picoformer.h"

#include <stdio.h>
#include <stdlib.h>

#define TRY(call)                                                            \
    do {                                                                     \
        int32_t status_ = (call);                                            \
        if (status_ != PF_OK) {                                              \
            fprintf(stderr, "%s: %s\n", #call, pf_status_message(status_)); \
            return 1;                                                        \
        }                                                                    \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.pfm TOKEN,TOKEN,...\n", argv[0]);
        return 2;
    }
    uint32_t src[256];
    size_t src_len = 0;
    for (char *p = argv[2]; *p && src_len < 256;) {
        src[src_len++] = (uint32_t)strtoul(p, &p, 10);
        if (*p == ',') p++;
    }

    /* The blob: 16-byte aligned memory of the file's exact size. */
    size_t blob_len = 0;
    void *blob = NULL;
    TRY(pf_file_size(argv[1], &blob_len));
    if (posix_memalign(&blob, PF_ALIGN, blob_len) != 0) return 1;
    TRY(pf_read_file(argv[1], blob, blob_len, &blob_len));

    /* Validate it once; the handle borrows the blob (keep it alive, unchanged). */
    pf_model model;
    pf_config config;
    TRY(pf_model_init(&model, blob, blob_len));
    TRY(pf_model_config(&model, &config));

    /* Greedy: scratch of the exact size, tokens up to max_tgt_len. */
    size_t scratch_len = 0, len = 0;
    void *scratch = NULL;
    float score = 0;
    uint32_t tokens[4 * 256];
    size_t max_len = config.max_tgt_len;
    TRY(pf_greedy_scratch_bytes(&model, &scratch_len));
    if (posix_memalign(&scratch, PF_ALIGN, scratch_len) != 0) return 1;
    TRY(pf_greedy(&model, src, src_len, max_len, tokens, max_len, &len, &score, scratch,
                  scratch_len));
    printf("greedy (%.4f):", score);
    for (size_t i = 0; i < len; i++) printf(" %u", tokens[i]);
    printf("\n");
    free(scratch);

    /* Beam search, beam 4, the best 2, GNMT length penalty 0.6. */
    pf_beam_params params = {.beam = 4, .top = 2, .max_len = (uint32_t)max_len, .alpha = 0.6f};
    size_t lengths[2], count = 0;
    float scores[2];
    TRY(pf_beam_scratch_bytes(&model, params.beam, &scratch_len));
    if (posix_memalign(&scratch, PF_ALIGN, scratch_len) != 0) return 1;
    TRY(pf_beam_search(&model, src, src_len, params, tokens, params.top * max_len, lengths, 2,
                       scores, 2, &count, scratch, scratch_len));
    for (size_t k = 0; k < count; k++) {
        printf("beam %zu (%.4f):", k, scores[k]);
        for (size_t i = 0; i < lengths[k]; i++) printf(" %u", tokens[k * max_len + i]);
        printf("\n");
    }
    free(scratch);
    free(blob);
    return 0;
}
