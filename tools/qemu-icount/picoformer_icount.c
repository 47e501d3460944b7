/*
 * picoformer's QEMU TCG plugin: exact guest instruction counts between two marker
 * functions of the firmware, and (with core=NAME) estimated cycles of a core's timing
 * model beside them.
 *
 *   qemu-system-arm ... -plugin libpicoformer_icount.so,start=0xADDR,stop=0xADDR -d plugin
 *   qemu-system-arm ... -plugin libpicoformer_icount.so,start=..,stop=..,core=cortex-m4 ...
 *
 * Every executed instruction adds one to a per-vCPU counter (an inline add, not a
 * callback: exact, and fast enough for whole test suites). When the first instruction of
 * the start marker executes, the counter is noted; when the first instruction of the stop
 * marker executes, the difference is printed as one region:
 *
 *   picoformer-icount region N instructions M
 *   picoformer-icount region N instructions M cycles C      (with core=NAME)
 *
 * A region is every instruction from the start marker's first instruction up to, not
 * including, the stop marker's first: the same code always gives the same count. At exit
 * the plugin prints the total as "picoformer-icount total M" (and " cycles C").
 *
 * Cycles: each instruction is decoded once, when QEMU translates it (its disassembly's
 * mnemonic and operands against the core's table, see cycles.h and docs/cycles.md), and
 * adds its weight with a second inline add. A taken branch costs the core's pipeline
 * refill on top: the last instruction of each translated block stores its fall-through
 * address, and the first instruction of every block adds the refill (a conditional
 * callback) only when it is not that address, i.e. when control arrived by a jump.
 *
 * Thumb addresses from `nm` carry the interworking bit; it is ignored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

#include "cycles.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* Per vCPU: executed instructions, estimated cycles, the last block's fall-through. */
struct vcpu_counters {
    uint64_t executed;
    uint64_t cycles;
    uint64_t fall_through;
};
static struct qemu_plugin_scoreboard *counters;
static qemu_plugin_u64 executed_count;
static qemu_plugin_u64 cycle_count;
static qemu_plugin_u64 fall_through;

static uint64_t start_addr = UINT64_MAX;
static uint64_t stop_addr = UINT64_MAX;

/* The timing model (core=NAME), or NULL: instructions only. */
static const struct core_model *model;
/* Translation-time decoder state (translation is serialised by QEMU). */
static struct decode_state decoder;

/* Counts at the last start marker, per region in progress (one vCPU on these boards). */
static uint64_t region_start;
static uint64_t region_start_cycles;
static int region_open;
static unsigned regions;

static void on_start_marker(unsigned int vcpu, void *userdata)
{
    (void)userdata;
    region_start = qemu_plugin_u64_get(executed_count, vcpu);
    region_start_cycles = qemu_plugin_u64_get(cycle_count, vcpu);
    region_open = 1;
}

static void on_stop_marker(unsigned int vcpu, void *userdata)
{
    char line[128];
    (void)userdata;
    if (!region_open) {
        return; /* a stop without a start: nothing was measured */
    }
    region_open = 0;
    regions++;
    if (model) {
        snprintf(line, sizeof line,
                 "picoformer-icount region %u instructions %" PRIu64 " cycles %" PRIu64 "\n",
                 regions, qemu_plugin_u64_get(executed_count, vcpu) - region_start,
                 qemu_plugin_u64_get(cycle_count, vcpu) - region_start_cycles);
    } else {
        snprintf(line, sizeof line, "picoformer-icount region %u instructions %" PRIu64 "\n",
                 regions, qemu_plugin_u64_get(executed_count, vcpu) - region_start);
    }
    qemu_plugin_outs(line);
}

/* A block entered by a jump: the refill (userdata) on top of the jump's own weight. */
static void on_jump_arrival(unsigned int vcpu, void *userdata)
{
    qemu_plugin_u64_add(cycle_count, vcpu, (uint64_t)(uintptr_t)userdata);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    if (model) {
        decode_block_start(&decoder);
    }
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        if (model && i == 0 && model->taken_branch_refill > 0) {
            /* before the markers' callbacks: a region starts after the jump into it */
            qemu_plugin_register_vcpu_insn_exec_cond_cb(
                insn, on_jump_arrival, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_COND_NE,
                fall_through, addr, (void *)(uintptr_t)model->taken_branch_refill);
        }
        /* The markers read the counters before this instruction's own increments. */
        if (addr == start_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start_marker,
                                                   QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        if (addr == stop_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop_marker,
                                                   QEMU_PLUGIN_CB_NO_REGS, NULL);
        }
        qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
            insn, QEMU_PLUGIN_INLINE_ADD_U64, executed_count, 1);
        if (model) {
            char *text = qemu_plugin_insn_disas(insn);
            uint8_t bytes[4] = {0};
            size_t size = qemu_plugin_insn_size(insn);
            qemu_plugin_insn_data(insn, bytes, size < sizeof bytes ? size : sizeof bytes);
            unsigned weight = decode_weight(model, &decoder, text ? text : "", bytes, size);
            g_free(text);
            if (weight > 0) {
                qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                    insn, QEMU_PLUGIN_INLINE_ADD_U64, cycle_count, weight);
            }
            if (i + 1 == n) {
                qemu_plugin_register_vcpu_insn_exec_inline_per_vcpu(
                    insn, QEMU_PLUGIN_INLINE_STORE_U64, fall_through, addr + size);
            }
        }
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata)
{
    char line[96];
    (void)id;
    (void)userdata;
    if (model) {
        snprintf(line, sizeof line, "picoformer-icount total %" PRIu64 " cycles %" PRIu64 "\n",
                 qemu_plugin_u64_sum(executed_count), qemu_plugin_u64_sum(cycle_count));
    } else {
        snprintf(line, sizeof line, "picoformer-icount total %" PRIu64 "\n",
                 qemu_plugin_u64_sum(executed_count));
    }
    qemu_plugin_outs(line);
    qemu_plugin_scoreboard_free(counters);
}

/* Parses "0x..." (or decimal) into *addr with the Thumb bit cleared. */
static int parse_addr(const char *text, uint64_t *addr)
{
    char *end;
    unsigned long long value = strtoull(text, &end, 0);
    if (end == text || *end != '\0') {
        return -1;
    }
    *addr = (uint64_t)value & ~(uint64_t)1;
    return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    unsigned vlen = 128;
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int bad;
        if (strncmp(arg, "start=", 6) == 0) {
            bad = parse_addr(arg + 6, &start_addr);
        } else if (strncmp(arg, "stop=", 5) == 0) {
            bad = parse_addr(arg + 5, &stop_addr);
        } else if (strncmp(arg, "core=", 5) == 0) {
            model = find_core_model(arg + 5);
            bad = model == NULL;
        } else if (strncmp(arg, "vlen=", 5) == 0) {
            char *end;
            vlen = (unsigned)strtoul(arg + 5, &end, 0);
            bad = *end != '\0' || vlen < 32 || (vlen & (vlen - 1)) != 0;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr,
                    "picoformer-icount: bad argument '%s' (start=ADDR,stop=ADDR,"
                    "core=%s,vlen=BITS)\n",
                    arg, CORE_MODEL_NAMES);
            return -1;
        }
    }
    decoder.vlen = vlen;
    counters = qemu_plugin_scoreboard_new(sizeof(struct vcpu_counters));
    executed_count = qemu_plugin_scoreboard_u64_in_struct(counters, struct vcpu_counters, executed);
    cycle_count = qemu_plugin_scoreboard_u64_in_struct(counters, struct vcpu_counters, cycles);
    fall_through =
        qemu_plugin_scoreboard_u64_in_struct(counters, struct vcpu_counters, fall_through);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
