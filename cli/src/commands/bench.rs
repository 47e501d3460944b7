//! `picoformer bench`: the timings of tools/bench (encoder, teacher-forced forward,
//! greedy decoding; the median and the minimum of several runs) and this machine's read
//! bandwidth.

use super::{scratch, ModelFile};
use anyhow::Result;
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    model: PathBuf,
    /// Source token ids, comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    src: Vec<u32>,
    /// Target token ids for the forward pass (starting with bos), comma separated.
    #[arg(long, value_delimiter = ',', required = true)]
    tgt: Vec<u32>,
    /// Tokens to generate greedily.
    #[arg(long)]
    max_len: usize,
    /// Repetitions (the median and the minimum are reported).
    #[arg(long, default_value_t = 5)]
    iters: usize,
}

pub fn run(
    Args {
        model,
        src,
        tgt,
        max_len,
        iters,
    }: Args,
) -> Result<()> {
    let file = ModelFile::read(&model)?;
    let m = file.model()?;
    // Checked before `out` is allocated for it.
    m.check_decoding(&[m.config().bos_id], max_len)?;
    let vocab = m.config().dims.tgt_vocab;
    let mut logits = vec![0f32; tgt.len() * vocab];
    let mut forward_scratch = scratch(m.forward_scratch_bytes_for_len(tgt.len()))?;
    let mut greedy_scratch = scratch(m.greedy_scratch_bytes_for_len(1, max_len))?;
    let mut encode_scratch = scratch(m.encode_scratch_bytes())?;
    let mut encoded = vec![0f32; src.len() * m.config().dims.d_model];
    let mut out = vec![0u32; max_len];
    let mut encode_s = Vec::new();
    let mut forward_s = Vec::new();
    let mut greedy_s = Vec::new();
    let mut tokens = 0;
    let mut forward_cpu_ticks = Some(0);
    for _ in 0..iters.max(1) {
        let start = Instant::now();
        m.encode(&src, &mut encoded, encode_scratch.as_mut_slice())?;
        encode_s.push(start.elapsed().as_secs_f64());
        let (start, cpu) = (Instant::now(), thread_cpu_ticks());
        m.forward(&src, &tgt, &mut logits, forward_scratch.as_mut_slice())?;
        forward_s.push(start.elapsed().as_secs_f64());
        forward_cpu_ticks = forward_cpu_ticks
            .zip(thread_cpu_ticks().zip(cpu))
            .map(|(sum, (end, start))| sum + end.saturating_sub(start));
        let start = Instant::now();
        tokens = m
            .greedy(&src, max_len, &mut out, greedy_scratch.as_mut_slice())?
            .len;
        greedy_s.push(start.elapsed().as_secs_f64());
    }
    let out = json!({
        "kernel": picoformer::kernels::active_kernel().name(),
        "quant_kernel": picoformer::kernels::active_kernel().member_name(picoformer::kernels::Dtype::I8),
        "f16_kernel": picoformer::kernels::active_kernel().member_name(picoformer::kernels::Dtype::F16),
        "dtype": m.dtype().name(),
        "encode_s": median(&mut encode_s),
        "forward_s": median(&mut forward_s),
        "greedy_s": median(&mut greedy_s),
        "encode_min_s": minimum(&encode_s),
        "forward_min_s": minimum(&forward_s),
        "greedy_min_s": minimum(&greedy_s),
        "forward_cpu_s": forward_cpu_ticks.map(|t| t as f64 / TICKS_PER_S / iters.max(1) as f64),
        "greedy_tokens": out[..tokens],
        "read_bandwidth_gb_s": read_bandwidth_gb_s(),
        "fma_peak_gflop_s": fma_peak_gflop_s(),
    });
    outln!("{out}");
    Ok(())
}

/// This core's f32 fused multiply-add peak for the active kernel (GFLOP/s, best of 5
/// runs; null where the kernel has no probe): the rate the forward pass's GFLOP/s are a
/// share of.
fn fma_peak_gflop_s() -> Option<f64> {
    #[cfg(target_arch = "x86_64")]
    return picoformer::kernels::arch::x86_64::peak::fma_peak_gflop_s(
        picoformer::kernels::active_kernel(),
        5,
    );
    #[cfg(not(target_arch = "x86_64"))]
    return None;
}

/// Clock ticks per second of `/proc`'s CPU times (`USER_HZ`: 100 on Linux).
const TICKS_PER_S: f64 = 100.0;

/// This thread's CPU time (user + system) in clock ticks, from `/proc/thread-self/stat`;
/// `None` where there is none (not Linux). With `--threads 1` the products run on this
/// thread: the mean over the runs (`forward_cpu_s`) leaves out the time other work on a
/// shared machine took the core away, which wall times count.
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // fields after the command name's closing parenthesis: state is field 3, utime 14
    let mut fields = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(user + system)
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The fastest run: on a shared machine other work only ever slows a run down.
fn minimum(samples: &[f64]) -> f64 {
    samples.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Single-thread read bandwidth: the best of a few passes summing a 512 MiB buffer, read
/// as 8 sequential streams at once (one stream leaves the memory idle part of the time:
/// the decoding kernels, which fetch ahead, read faster than it does).
fn read_bandwidth_gb_s() -> f64 {
    const STREAMS: usize = 8;
    let words = vec![1u64; 64 << 20];
    let part = words.len() / STREAMS;
    let mut best = f64::INFINITY;
    let mut checksum = 0u64;
    for _ in 0..5 {
        let start = Instant::now();
        // Eight independent lanes so the loop is bound by loads, not by one add chain.
        let mut lanes = [0u64; 8];
        let streams: Vec<&[u64]> = words.chunks_exact(part).collect();
        for at in (0..part).step_by(8) {
            for stream in &streams {
                for (lane, &w) in lanes.iter_mut().zip(stream.get(at..at + 8).unwrap_or(&[])) {
                    *lane = lane.wrapping_add(w);
                }
            }
        }
        checksum = checksum.wrapping_add(lanes.iter().sum::<u64>());
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(checksum);
    (words.len() * 8) as f64 / best / 1e9
}
