//! Measurements for `tools/firmware-report.sh`, printed as `figure NAME VALUE` lines.
//!
//! - Stack: the board paints the free stack, runs a full decode, and finds the deepest
//!   word that changed.
//! - Instructions: the QEMU plugin in `tools/qemu-icount/` counts the guest instructions
//!   executed between each run of [`icount_start`] and the next of [`icount_stop`]; this
//!   module runs ten regions, in this order: a greedy decode of 1 token, the same
//!   decode of `greedy_tokens` tokens, a beam search, then one matrix-vector product
//!   `[MATVEC_OUT, MATVEC_IN]` through the dispatched kernel and through the scalar
//!   reference (instructions per multiply-accumulate); then the same product with int8
//!   weights through the dispatched integer kernel and through the scalar one (regions
//!   6 and 7), then the int8 product through the dispatched kernel at the larger shapes
//!   of [`MATVEC_I8_SHAPES`] (regions 8 and 9). Each int8 shape is printed as
//!   `figure matvec_i8_shape REGION ROWS COLS`, so the scripts know what each region measured.
//!   Region 10 is the blob checksum: CRC-32C over the whole test blob in flash, as loading
//!   verifies it (`figure crc_region REGION BYTES`; per KiB: `tools/firmware-crc.sh`).

use crate::golden::{self, GreedyCase};
use crate::{Board, Net, SuiteScratch, SCRATCH_BYTES};
use core::hint::black_box;

/// Start marker of an instruction-count region (found by the plugin through `nm`).
#[inline(never)]
pub fn icount_start() {
    // distinct bodies, or the linker may fold the two markers into one address
    black_box(0x5157_4152u32);
}

/// Stop marker of an instruction-count region.
#[inline(never)]
pub fn icount_stop() {
    black_box(0x5354_4f50u32);
}

/// The paper's base shape (D 512, 8 heads, F 2048, 6 + 6 layers) with its 37,000-token
/// shared vocabulary and 64 positions: what its scratch would need.
type PaperBase = picoformer::StaticModel<'static, 512, 8, 2048, 6, 6, 37000, 37000, 64, 64>;

/// Rows of the measured matrix-vector product.
const MATVEC_OUT: usize = 64;
/// Columns of the measured matrix-vector product.
const MATVEC_IN: usize = 256;
/// Its weights, in flash like a model's (the values do not change the instruction count:
/// the kernels have no data-dependent branches).
static MATVEC_WEIGHTS: [f32; MATVEC_OUT * MATVEC_IN] = [0.5; MATVEC_OUT * MATVEC_IN];
/// The int8 products measured, `(rows, columns)` and their region: [64, 256] (the f32
/// product's shape, regions 6 and 7 with the scalar reference), then larger shapes through
/// the dispatched kernel only.
const MATVEC_I8_SHAPES: [(usize, usize, u32); 3] = [(64, 256, 6), (256, 256, 8), (512, 512, 9)];
/// Most weights and rows of the int8 products.
const MATVEC_I8_MAX_VALUES: usize = MATVEC_I8_MAX_ROWS * MATVEC_I8_MAX_COLS;
const MATVEC_I8_MAX_ROWS: usize = 512;
const MATVEC_I8_MAX_COLS: usize = 512;
/// Bytes of int8 weights the board lends the measured products ([`Board::matvec_i8`]).
pub const MATVEC_I8_VALUES: usize = MATVEC_I8_MAX_VALUES;
static MATVEC_I8_SCALES: [f32; MATVEC_I8_MAX_ROWS] = [0.5 / 64.0; MATVEC_I8_MAX_ROWS];
/// Bytes of quantized activations one input row of the widest product needs.
const MATVEC_I8_ACT: usize =
    match picoformer::kernels::quant::activation_values(1, MATVEC_I8_MAX_COLS) {
        Some(bytes) => bytes,
        None => 0,
    };

/// The region of the blob checksum's cost (after the int8 products).
const CRC_REGION: u32 = 10;

/// The golden greedy case with the longest output: the most tokens per measurement.
fn longest_greedy_case() -> Option<&'static GreedyCase> {
    golden::GREEDY.iter().max_by_key(|case| case.tokens.len())
}

/// Runs the measured decodes and prints the figures.
pub fn print(board: &Board, net: &Net, scratch: &mut SuiteScratch) {
    let (Some(case), Some(beam_case)) = (longest_greedy_case(), golden::BEAM.first()) else {
        defmt::println!("figures: no golden case to measure");
        return;
    };
    let mut out = [0u32; golden::MAX_TGT_LEN];

    icount_start();
    let first = net.greedy(case.src, 1, &mut out, scratch);
    icount_stop();
    icount_start();
    let all = net.greedy(case.src, case.max_len, &mut out, scratch);
    icount_stop();
    icount_start();
    let beam_ok = matches!(golden::beam_search(net, beam_case, scratch), Some(Ok(_)));
    icount_stop();
    let input = [0.25f32; MATVEC_IN];
    let mut output = [0f32; MATVEC_OUT];
    icount_start();
    picoformer::kernels::linear(&input, &MATVEC_WEIGHTS, None, MATVEC_IN, &mut output);
    icount_stop();
    icount_start();
    picoformer::kernels::generic::f32::linear(
        &input,
        &MATVEC_WEIGHTS,
        None,
        MATVEC_IN,
        &mut output,
    );
    icount_stop();
    let weights = picoformer::kernels::I8Matrix {
        values: board.matvec_i8.get(..MATVEC_OUT * MATVEC_IN).unwrap_or(&[]),
        scales: MATVEC_I8_SCALES.get(..MATVEC_OUT).unwrap_or(&[]),
    };
    let mut q = [0i8; MATVEC_I8_ACT];
    let mut q_scale = [0f32; 1];
    let mut act = picoformer::kernels::Activations {
        values: &mut q,
        scales: &mut q_scale,
    };
    let matrix = picoformer::kernels::Matrix::I8(weights);
    icount_start();
    picoformer::kernels::quant::linear(&input, &matrix, None, MATVEC_IN, &mut output, &mut act);
    icount_stop();
    icount_start();
    picoformer::kernels::quant::linear_i8(
        picoformer::kernels::generic::i8::ScalarI8,
        &input,
        weights,
        None,
        MATVEC_IN,
        &mut output,
        &mut act,
    );
    icount_stop();
    black_box(&output);
    let wide_input = [0.25f32; MATVEC_I8_MAX_COLS];
    let mut wide_output = [0f32; MATVEC_I8_MAX_ROWS];
    for &(rows, cols, _) in MATVEC_I8_SHAPES.iter().skip(1) {
        let (Some(values), Some(scales), Some(x), Some(y)) = (
            board.matvec_i8.get(..rows * cols),
            MATVEC_I8_SCALES.get(..rows),
            wide_input.get(..cols),
            wide_output.get_mut(..rows),
        ) else {
            continue;
        };
        let matrix =
            picoformer::kernels::Matrix::I8(picoformer::kernels::I8Matrix { values, scales });
        icount_start();
        picoformer::kernels::quant::linear(x, &matrix, None, cols, y, &mut act);
        icount_stop();
        black_box(&y);
    }
    // The checksum loading verifies: CRC-32C over the blob in flash.
    let blob = crate::blob();
    icount_start();
    let crc = picoformer::blob::crc32c(blob);
    icount_stop();
    black_box(crc);
    defmt::println!("figure crc_region {=u32} {=usize}", CRC_REGION, blob.len());
    for &(rows, cols, region) in MATVEC_I8_SHAPES.iter() {
        defmt::println!(
            "figure matvec_i8_shape {=u32} {=usize} {=usize}",
            region,
            rows,
            cols
        );
    }
    defmt::println!(
        "figure matvec_i8_kernel {=str}",
        picoformer::kernels::active_kernel().member_name(picoformer::kernels::Dtype::I8)
    );
    defmt::println!("figure matvec_macs {=usize}", MATVEC_OUT * MATVEC_IN);
    defmt::println!(
        "figure matvec_kernel {=str}",
        picoformer::kernels::active_kernel().name()
    );
    match (first, all) {
        (Ok(first), Ok(all)) if first.len == 1 && beam_ok => {
            defmt::println!("figure greedy_tokens {=usize}", all.len);
        }
        _ => defmt::println!("figures: a measured decode failed"),
    }

    let greedy_stack = (board.stack_used)(&mut || {
        let _ = black_box(net.greedy(case.src, case.max_len, &mut out, scratch));
    });
    let beam_stack = (board.stack_used)(&mut || {
        let _ = black_box(golden::beam_search(net, beam_case, scratch).is_some());
    });
    defmt::println!("figure stack_greedy_bytes {=usize}", greedy_stack);
    defmt::println!("figure stack_beam_bytes {=usize}", beam_stack);
    defmt::println!("figure beam_size {=usize}", beam_case.beam);
    defmt::println!("figure blob_bytes {=usize}", crate::blob().len());
    defmt::println!(
        "figure scratch_greedy_bytes {=usize}",
        Net::GREEDY_SCRATCH_BYTES
    );
    defmt::println!(
        "figure scratch_beam_bytes {=usize}",
        Net::beam_scratch_bytes(beam_case.beam)
    );
    defmt::println!("figure scratch_buffer_bytes {=usize}", SCRATCH_BYTES);
    defmt::println!(
        "figure paper_base_greedy_scratch_bytes {=usize}",
        PaperBase::GREEDY_SCRATCH_BYTES
    );
}
