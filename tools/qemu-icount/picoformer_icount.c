/*
 * picoformer's QEMU TCG plugin: exact guest instruction counts between two marker
 * functions of the firmware.
 *
 *   qemu-system-arm ... -plugin libpicoformer_icount.so,start=0xADDR,stop=0xADDR -d plugin
 *
 * Every executed instruction adds one to a per-vCPU counter (an inline add, not a
 * callback: exact, and fast enough for whole test suites). When the first instruction of
 * the start marker executes, the counter is noted; when the first instruction of the stop
 * marker executes, the difference is printed as one region:
 *
 *   picoformer-icount region N instructions M
 *
 * A region is every instruction from the start marker's first instruction up to, not
 * including, the stop marker's first: the same code always gives the same count. At exit
 * the plugin prints the total as "picoformer-icount total M".
 *
 * Thumb addresses from `nm` carry the interworking bit; it is ignored.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* Executed instructions per vCPU. */
static struct qemu_plugin_scoreboard *executed;
static qemu_plugin_u64 executed_count;

static uint64_t start_addr = UINT64_MAX;
static uint64_t stop_addr = UINT64_MAX;

/* Count at the last start marker, per region in progress (one vCPU on these boards). */
static uint64_t region_start;
static int region_open;
static unsigned regions;

static void on_start_marker(unsigned int vcpu, void *userdata)
{
    (void)userdata;
    region_start = qemu_plugin_u64_get(executed_count, vcpu);
    region_open = 1;
}

static void on_stop_marker(unsigned int vcpu, void *userdata)
{
    char line[96];
    (void)userdata;
    if (!region_open) {
        return; /* a stop without a start: nothing was measured */
    }
    region_open = 0;
    regions++;
    snprintf(line, sizeof line, "picoformer-icount region %u instructions %" PRIu64 "\n",
             regions, qemu_plugin_u64_get(executed_count, vcpu) - region_start);
    qemu_plugin_outs(line);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t addr = qemu_plugin_insn_vaddr(insn);
        /* The markers read the counter before this instruction's own increment. */
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
    }
}

static void on_plugin_exit(qemu_plugin_id_t id, void *userdata)
{
    char line[64];
    (void)id;
    (void)userdata;
    snprintf(line, sizeof line, "picoformer-icount total %" PRIu64 "\n",
             qemu_plugin_u64_sum(executed_count));
    qemu_plugin_outs(line);
    qemu_plugin_scoreboard_free(executed);
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
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        int bad;
        if (strncmp(arg, "start=", 6) == 0) {
            bad = parse_addr(arg + 6, &start_addr);
        } else if (strncmp(arg, "stop=", 5) == 0) {
            bad = parse_addr(arg + 5, &stop_addr);
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "picoformer-icount: bad argument '%s' (start=ADDR,stop=ADDR)\n", arg);
            return -1;
        }
    }
    executed = qemu_plugin_scoreboard_new(sizeof(uint64_t));
    executed_count = qemu_plugin_scoreboard_u64(executed);
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
