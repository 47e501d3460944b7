/*
 * Timing models of picoformer's cycle estimates: each core's cost per instruction, as
 * docs/cycles.md tabulates it (with its sources and approximations). Decoded once per
 * translated instruction from QEMU's disassembly (mnemonic and operands), with the raw
 * bytes for the Armv8.1-M vector instructions the disassembler may not know.
 *
 * Costs are whole cycles. Dynamic effects the tables name:
 * - a taken branch adds the core's pipeline refill (the plugin detects the jump);
 * - Cortex-M3/M4/M33: a single load or store right after a single load, whose address
 *   does not use that load's result, costs 1 (pipelined) instead of 2;
 * - Cortex-M7: two neighbouring instructions issue together (the second costs 0) when
 *   both are single-cycle, not both memory, not both multiply/FP, not both branches, and
 *   the second does not read the first's result;
 * - Cortex-M55: a 128-bit vector instruction takes 2 cycles (4 beats, 2 per cycle), 1
 *   when it overlaps the previous vector instruction of the other kind (memory after
 *   arithmetic or arithmetic after memory);
 * - RV32: a vector instruction costs LMUL x VLEN / 64 cycles (a 64-bit datapath), LMUL
 *   from the last vsetvli/vsetivli decoded.
 * The neighbour state starts afresh at each translated block; LMUL carries over.
 */
#ifndef PICOFORMER_CYCLES_H
#define PICOFORMER_CYCLES_H

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum core_kind { CORE_ARMV7M, CORE_M7, CORE_M55, CORE_RV32 };

/* One row of a table: a mnemonic prefix (it matches the ".w"/".n", condition and type
 * suffixes too: "ldr" matches "ldrb.w", "vfma" matches "vfma.f32") and its cost. */
struct cost_row {
    const char *prefix;
    unsigned cycles;
    /* cost is `cycles` + words in the register list ({r4-r7}, {s0-s7}, {d8}) */
    int plus_registers;
};

struct core_model {
    const char *name;
    enum core_kind kind;
    /* cycles a taken branch adds to its own (the pipeline refill) */
    unsigned taken_branch_refill;
    /* rows searched longest prefix first; anything else costs 1 */
    const struct cost_row *rows;
    /* single loads/stores pipeline after a load (Cortex-M3/M4/M33) */
    int pipelined_loads;
};

#define CORE_MODEL_NAMES "cortex-m3|cortex-m4|cortex-m7|cortex-m33|cortex-m55|rv32"

/* Cortex-M4 TRM (DDI 0439) 3.3.1 Table 3-1 and 7.2.3 Table 7-1 (FPU). */
static const struct cost_row cortex_m4_rows[] = {
    /* FPU */
    {"vdiv", 14, 0},
    {"vsqrt", 14, 0},
    {"vmla", 3, 0},
    {"vmls", 3, 0},
    {"vnmla", 3, 0},
    {"vnmls", 3, 0},
    {"vfma", 3, 0},
    {"vfms", 3, 0},
    {"vfnma", 3, 0},
    {"vfnms", 3, 0},
    {"vldm", 1, 1},
    {"vstm", 1, 1},
    {"vpush", 1, 1},
    {"vpop", 1, 1},
    {"vldr", 2, 0}, /* 3 for a d register: see decode_weight */
    {"vstr", 2, 0},
    /* loads and stores */
    {"ldm", 1, 1},
    {"stm", 1, 1},
    {"push", 1, 1},
    {"pop", 1, 1},
    {"ldrd", 3, 0},
    {"strd", 3, 0},
    {"ldrex", 2, 0},
    {"strex", 2, 0},
    {"ldr", 2, 0},
    {"str", 2, 0}, /* 1 with an immediate offset: see decode_weight */
    {"tbb", 3, 0},
    {"tbh", 3, 0},
    /* divide: 2 to 12 by operand values, here their middle */
    {"sdiv", 7, 0},
    {"udiv", 7, 0},
    {NULL, 0, 0},
};

/* Cortex-M3 TRM (DDI 0337) 18.2 Table 18-1: as the M4 but slower multiplies, no FPU. */
static const struct cost_row cortex_m3_rows[] = {
    {"mla", 2, 0},
    {"mls", 2, 0},
    {"smull", 4, 0},
    {"umull", 4, 0},
    {"smlal", 5, 0},
    {"umlal", 5, 0},
    {"ldm", 1, 1},
    {"stm", 1, 1},
    {"push", 1, 1},
    {"pop", 1, 1},
    {"ldrd", 3, 0},
    {"strd", 3, 0},
    {"ldrex", 2, 0},
    {"strex", 2, 0},
    {"ldr", 2, 0},
    {"str", 2, 0},
    {"tbb", 3, 0},
    {"tbh", 3, 0},
    {"sdiv", 7, 0},
    {"udiv", 7, 0},
    {NULL, 0, 0},
};

/* Cortex-M7: single-cycle loads (64-bit bus: 2 registers per cycle), pipelined FPU
 * multiply-accumulates; the dual issue is in decode_weight. */
static const struct cost_row cortex_m7_rows[] = {
    {"vdiv", 14, 0},
    {"vsqrt", 14, 0},
    {"vldm", 1, 2},
    {"vstm", 1, 2},
    {"vpush", 1, 2},
    {"vpop", 1, 2},
    {"ldm", 1, 2},
    {"stm", 1, 2},
    {"push", 1, 2},
    {"pop", 1, 2},
    {"tbb", 2, 0},
    {"tbh", 2, 0},
    {"sdiv", 7, 0},
    {"udiv", 7, 0},
    {NULL, 0, 0},
};

/* RV32, a simple in-order core. */
static const struct cost_row rv32_rows[] = {
    {"lw", 2, 0},
    {"lh", 2, 0},
    {"lb", 2, 0},
    {"flw", 2, 0},
    {"c.lw", 2, 0},
    {"c.lwsp", 2, 0},
    {"c.flw", 2, 0},
    {"c.flwsp", 2, 0},
    {"div", 34, 0},
    {"rem", 34, 0},
    {"fdiv", 20, 0},
    {"fsqrt", 20, 0},
    {NULL, 0, 0},
};

static const struct core_model core_models[] = {
    {"cortex-m3", CORE_ARMV7M, 2, cortex_m3_rows, 1},
    {"cortex-m4", CORE_ARMV7M, 2, cortex_m4_rows, 1},
    {"cortex-m33", CORE_ARMV7M, 2, cortex_m4_rows, 1},
    {"cortex-m7", CORE_M7, 1, cortex_m7_rows, 0},
    {"cortex-m55", CORE_M55, 2, cortex_m4_rows, 1},
    {"rv32", CORE_RV32, 2, rv32_rows, 0},
};

static inline const struct core_model *find_core_model(const char *name)
{
    for (size_t i = 0; i < sizeof core_models / sizeof core_models[0]; i++) {
        if (strcmp(core_models[i].name, name) == 0) {
            return &core_models[i];
        }
    }
    return NULL;
}

/* What the previous instruction of the block left behind. */
enum insn_class {
    CLASS_OTHER,
    CLASS_LOAD,       /* a single load (not LDRD/LDM) */
    CLASS_MEMORY,     /* any other load or store */
    CLASS_MULTIPLY,   /* multiply, divide, FP */
    CLASS_BRANCH,
    CLASS_VECTOR_MEM, /* MVE load/store */
    CLASS_VECTOR_ALU, /* MVE arithmetic */
};

struct decode_state {
    enum insn_class previous;
    char previous_dest[8]; /* register the previous instruction wrote ("" if none) */
    int previous_paired;   /* M7: the previous instruction was the second of a pair */
    unsigned previous_cost;
    unsigned lmul;         /* RV32 vector: LMUL of the last vsetvli (at least 1) */
    unsigned vlen;         /* RV32 vector: VLEN in bits */
};

static inline void decode_block_start(struct decode_state *s)
{
    s->previous = CLASS_OTHER;
    s->previous_dest[0] = '\0';
    s->previous_paired = 0;
    s->previous_cost = 0;
    if (s->lmul == 0) {
        s->lmul = 1;
    }
}

/* Words moved by a register list: "{r4, r5, lr}", "{r4-r7}", "{s0-s7}", "{d8-d9}". */
static inline unsigned register_list_words(const char *operands)
{
    const char *open = strchr(operands, '{');
    const char *close = open ? strchr(open, '}') : NULL;
    unsigned words = 0;
    if (!open || !close) {
        return 1;
    }
    for (const char *p = open + 1; p < close;) {
        while (p < close && !isalpha((unsigned char)*p)) {
            p++;
        }
        if (p >= close) {
            break;
        }
        char kind = *p;
        unsigned first = 0, last;
        const char *q = p + 1;
        if (isdigit((unsigned char)*q)) {
            first = (unsigned)strtoul(q, (char **)&q, 10);
        } else {
            while (q < close && isalnum((unsigned char)*q)) {
                q++; /* lr, pc, sp, fp, ip */
            }
        }
        last = first;
        if (*q == '-') {
            q++;
            while (q < close && isalpha((unsigned char)*q)) {
                q++;
            }
            last = (unsigned)strtoul(q, (char **)&q, 10);
        }
        unsigned count = last >= first ? last - first + 1 : 1;
        words += kind == 'd' ? 2 * count : count;
        p = q;
        while (p < close && *p != ',') {
            p++;
        }
    }
    return words ? words : 1;
}

/* The first register operand (the destination of most instructions). */
static inline void first_register(const char *operands, char *out, size_t size)
{
    size_t n = 0;
    while (*operands == ' ') {
        operands++;
    }
    while (operands[n] && operands[n] != ',' && operands[n] != ' ' && n + 1 < size) {
        out[n] = operands[n];
        n++;
    }
    out[n] = '\0';
}

/* The base register of a memory operand "[rN, ...]" ("" if none). */
/* Whether `reg` appears as a whole register name in `operands`. */
static inline int reads_register(const char *operands, const char *reg)
{
    const char *p = operands;
    size_t len = strlen(reg);
    if (len == 0) {
        return 0;
    }
    for (; (p = strstr(p, reg)) != NULL; p += len) {
        int starts = p == operands || !isalnum((unsigned char)p[-1]);
        int ends = !isalnum((unsigned char)p[len]);
        if (starts && ends) {
            return 1;
        }
    }
    return 0;
}

static inline int has_prefix(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* An Armv8.1-M vector instruction: a q register operand, or a beat-wise mnemonic. */
static inline int is_mve(const char *mnemonic, const char *operands)
{
    if (mnemonic[0] != 'v') {
        return 0;
    }
    if (has_prefix(mnemonic, "vpst") || has_prefix(mnemonic, "vpt") ||
        has_prefix(mnemonic, "vctp")) {
        return 0; /* predication set-up: scalar-like, 1 cycle */
    }
    for (const char *p = operands; *p; p++) {
        if (*p == 'q' && (p == operands || !isalnum((unsigned char)p[-1])) &&
            isdigit((unsigned char)p[1])) {
            return 1;
        }
    }
    return 0;
}

/* An Armv8.1-M vector (MVE) instruction by its encoding: QEMU's capstone 4 does not know
 * MVE and shows it as coprocessor instructions (`ldc p15, ...`) or `.byte`. A 32-bit
 * instruction whose first halfword is 0xEFxx/0xFFxx (the Advanced SIMD-like space) is
 * vector arithmetic; one in 0xEC00-0xEEFF/0xFC00-0xFEFF is MVE when its coprocessor field
 * (bits 11:8 of the second halfword) is 14 or 15 (10 and 11 are the scalar FPU): a
 * load/store for 0xEC/0xED/0xFC/0xFD, arithmetic for 0xEE/0xFE. */
static inline enum insn_class mve_class(const uint8_t *bytes, size_t size)
{
    if (size != 4) {
        return CLASS_OTHER;
    }
    unsigned first = (unsigned)bytes[0] | (unsigned)bytes[1] << 8;
    unsigned second = (unsigned)bytes[2] | (unsigned)bytes[3] << 8;
    if ((first & 0xEC00) != 0xEC00) {
        return CLASS_OTHER;
    }
    if ((first & 0xEF00) == 0xEF00) {
        return CLASS_VECTOR_ALU;
    }
    unsigned coprocessor = (second >> 8) & 0xF;
    if (coprocessor != 0xE && coprocessor != 0xF) {
        return CLASS_OTHER;
    }
    return (first & 0x0E00) == 0x0E00 ? CLASS_VECTOR_ALU : CLASS_VECTOR_MEM;
}

static inline int is_arm_load(const char *m)
{
    return has_prefix(m, "ldr") && !has_prefix(m, "ldrd") && !has_prefix(m, "ldrex");
}

static inline int is_arm_store(const char *m)
{
    return has_prefix(m, "str") && !has_prefix(m, "strd") && !has_prefix(m, "strex");
}

static inline int is_arm_branch(const char *m)
{
    static const char *conds[] = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs",
                                  "vc", "hi", "ls", "ge", "lt", "gt", "le", "al"};
    char base[16];
    size_t n = 0;
    while (m[n] && m[n] != '.' && n + 1 < sizeof base) {
        base[n] = m[n];
        n++;
    }
    base[n] = '\0';
    if (!strcmp(base, "b") || !strcmp(base, "bl") || !strcmp(base, "bx") ||
        !strcmp(base, "blx") || !strcmp(base, "cbz") || !strcmp(base, "cbnz")) {
        return 1;
    }
    if (base[0] == 'b' && strlen(base) == 3) {
        for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
            if (!strcmp(base + 1, conds[i])) {
                return 1;
            }
        }
    }
    if ((base[0] == 'b' && base[1] == 'x' && strlen(base) == 4) ||
        (has_prefix(base, "bl") && strlen(base) == 4)) {
        for (size_t i = 0; i < sizeof conds / sizeof conds[0]; i++) {
            if (!strcmp(base + 2, conds[i])) {
                return 1;
            }
        }
    }
    return 0;
}

static inline int is_arm_multiply(const char *m)
{
    return has_prefix(m, "mul") || has_prefix(m, "mla") || has_prefix(m, "mls") ||
           has_prefix(m, "smul") || has_prefix(m, "smla") || has_prefix(m, "smlsd") ||
           has_prefix(m, "smuad") || has_prefix(m, "smusd") || has_prefix(m, "umul") ||
           has_prefix(m, "umla") || has_prefix(m, "sdiv") || has_prefix(m, "udiv") ||
           has_prefix(m, "smmul") || has_prefix(m, "smmla") ||
           (m[0] == 'v' && !has_prefix(m, "vldr") && !has_prefix(m, "vstr") &&
            !has_prefix(m, "vldm") && !has_prefix(m, "vstm") && !has_prefix(m, "vpush") &&
            !has_prefix(m, "vpop") && !has_prefix(m, "vmov") && !has_prefix(m, "vmrs") &&
            !has_prefix(m, "vmsr"));
}

static inline const struct cost_row *find_row(const struct cost_row *rows, const char *m)
{
    const struct cost_row *best = NULL;
    for (const struct cost_row *row = rows; row->prefix; row++) {
        if (has_prefix(m, row->prefix) &&
            (!best || strlen(row->prefix) > strlen(best->prefix))) {
            best = row;
        }
    }
    return best;
}

static inline unsigned table_cost(const struct core_model *model, const char *m,
                                  const char *operands)
{
    const struct cost_row *row = find_row(model->rows, m);
    if (!row) {
        return 1;
    }
    if (row->plus_registers) {
        unsigned words = register_list_words(operands);
        return row->cycles + (words + (unsigned)row->plus_registers - 1) /
                                 (unsigned)row->plus_registers;
    }
    return row->cycles;
}

static inline unsigned rv32_vector_cost(const struct decode_state *s)
{
    unsigned cost = s->lmul * s->vlen / 64;
    return cost ? cost : 1;
}

/* Cost of one RV32 instruction. */
static inline unsigned rv32_weight(const struct core_model *model, struct decode_state *s,
                                   const char *m, const char *operands)
{
    if (has_prefix(m, "vsetvl") || has_prefix(m, "vsetivli")) {
        const char *p = strstr(operands, ",m");
        s->lmul = 1;
        if (p && isdigit((unsigned char)p[2])) {
            s->lmul = (unsigned)(p[2] - '0'); /* m1, m2, m4, m8; mf2.. stay 1 */
        }
        return 1;
    }
    if (m[0] == 'v') {
        /* loads vle/vlse/vluxei/vloxei/vl1r..; stores vse/vsse/vsuxei/vsoxei/vs1r.. (not
         * vsub, vsll, vslide...) */
        int memory = has_prefix(m, "vl") || has_prefix(m, "vse") || has_prefix(m, "vsse") ||
                     has_prefix(m, "vsuxei") || has_prefix(m, "vsoxei") ||
                     (has_prefix(m, "vs") && isdigit((unsigned char)m[2]));
        return rv32_vector_cost(s) + (memory ? 1 : 0);
    }
    if (has_prefix(m, "mul")) {
        return 1;
    }
    return table_cost(model, m, operands);
}

/* The weight of one instruction: `text` is QEMU's disassembly ("mnemonic operands"). */
static inline unsigned decode_weight(const struct core_model *model, struct decode_state *s,
                                     const char *text, const uint8_t *bytes, size_t size)
{
    char m[32];
    size_t n = 0;
    while (*text == ' ' || *text == '\t') {
        text++;
    }
    while (text[n] && text[n] != ' ' && text[n] != '\t' && n + 1 < sizeof m) {
        m[n] = (char)tolower((unsigned char)text[n]);
        n++;
    }
    m[n] = '\0';
    const char *operands = text + n;
    while (*operands == ' ' || *operands == '\t') {
        operands++;
    }

    if (model->kind == CORE_RV32) {
        return rv32_weight(model, s, m, operands);
    }

    unsigned cost;
    enum insn_class class = CLASS_OTHER;
    char dest[8] = "";

    enum insn_class vector = mve_class(bytes, size);
    if (vector == CLASS_OTHER && is_mve(m, operands)) {
        /* a disassembler that knows MVE (capstone 5): q registers */
        vector = has_prefix(m, "vld") || has_prefix(m, "vst") ? CLASS_VECTOR_MEM : CLASS_VECTOR_ALU;
    }
    if (model->kind == CORE_M55 && vector != CLASS_OTHER) {
        /* 4 beats at 2 a cycle; the first two overlap the previous instruction's last
         * two when that one used the other unit */
        int overlaps = (s->previous == CLASS_VECTOR_MEM && vector == CLASS_VECTOR_ALU) ||
                       (s->previous == CLASS_VECTOR_ALU && vector == CLASS_VECTOR_MEM);
        s->previous = vector;
        s->previous_dest[0] = '\0';
        return overlaps ? 1 : 2;
    }

    cost = table_cost(model, m, operands);
    if (is_arm_load(m)) {
        class = CLASS_LOAD;
        first_register(operands, dest, sizeof dest);
    } else if (has_prefix(m, "vldr") || has_prefix(m, "ldrd") || has_prefix(m, "ldrex")) {
        class = CLASS_MEMORY;
        first_register(operands, dest, sizeof dest);
    } else if (is_arm_store(m) || has_prefix(m, "ldm") || has_prefix(m, "stm") ||
               has_prefix(m, "push") || has_prefix(m, "pop") || has_prefix(m, "ldrd") ||
               has_prefix(m, "strd") || has_prefix(m, "vldr") || has_prefix(m, "vstr") ||
               has_prefix(m, "vldm") || has_prefix(m, "vstm") || has_prefix(m, "vpush") ||
               has_prefix(m, "vpop")) {
        class = CLASS_MEMORY;
    } else if (is_arm_branch(m)) {
        class = CLASS_BRANCH;
    } else if (is_arm_multiply(m)) {
        class = CLASS_MULTIPLY;
        first_register(operands, dest, sizeof dest);
    } else {
        first_register(operands, dest, sizeof dest);
    }

    if (model->kind == CORE_M7) {
        /* pipelined FPU, single-cycle loads: everything the table does not name is 1 */
        int pairs = !s->previous_paired && s->previous_cost == 1 && cost == 1;
        int both_memory = (s->previous == CLASS_LOAD || s->previous == CLASS_MEMORY) &&
                          (class == CLASS_LOAD || class == CLASS_MEMORY);
        int both_multiply = s->previous == CLASS_MULTIPLY && class == CLASS_MULTIPLY;
        int both_branch = s->previous == CLASS_BRANCH && class == CLASS_BRANCH;
        /* any mention: Thumb's two-operand forms read their first operand too */
        int depends = reads_register(operands, s->previous_dest);
        unsigned issued = cost;
        if (pairs && !both_memory && !both_multiply && !both_branch &&
            !depends) {
            issued = 0;
            s->previous_paired = 1;
        } else {
            s->previous_paired = 0;
        }
        s->previous = class;
        s->previous_cost = cost;
        strcpy(s->previous_dest, dest);
        return issued;
    }

    if (has_prefix(m, "vldr") || has_prefix(m, "vstr")) {
        if (operands[0] == 'd') {
            cost = 3;
        }
    } else if (has_prefix(m, "vmov")) {
        /* two core registers moved: 2 */
        unsigned cores = 0;
        for (const char *p = operands; *p; p++) {
            if (*p == 'r' && (p == operands || !isalnum((unsigned char)p[-1])) &&
                isdigit((unsigned char)p[1])) {
                cores++;
            }
        }
        cost = cores >= 2 ? 2 : 1;
    } else if (is_arm_store(m) && !strchr(operands, ']')) {
        cost = 2;
    } else if (is_arm_store(m)) {
        /* STR Rx,[Ry,#imm] is one cycle; with a register offset two */
        const char *open = strchr(operands, '[');
        const char *comma = open ? strchr(open, ',') : NULL;
        const char *close = open ? strchr(open, ']') : NULL;
        int register_offset = comma && close && comma < close && comma[1] != '\0' &&
                              (comma[1] == 'r' || comma[2] == 'r');
        cost = register_offset ? 2 : 1;
    }
    if (model->pipelined_loads && s->previous == CLASS_LOAD &&
        (is_arm_load(m) || is_arm_store(m))) {
        /* pipelined unless its address uses the load's result */
        const char *address = strchr(operands, '[');
        if (!address || !reads_register(address, s->previous_dest)) {
            cost = 1;
        }
    }
    s->previous = class;
    strcpy(s->previous_dest, dest);
    return cost;
}

#endif
