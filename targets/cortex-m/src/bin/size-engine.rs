//! Code-size probe: the runtime plus loading a model, greedy decoding and beam search:
//! everything an encoder-decoder application links.
#![no_std]
#![no_main]

use core::hint::black_box;
use picoformer_board as board;
use picoformer_firmware_suite::{blob, golden, Net, SuiteScratch};

#[cortex_m_rt::entry]
fn main() -> ! {
    static mut SCRATCH: SuiteScratch = SuiteScratch::new();
    // black_box: the inputs are unknown to the compiler, so no call is folded away
    let status = match Net::from_blob(black_box(blob())) {
        Ok(net) => {
            let mut out = [0u32; golden::MAX_TGT_LEN];
            let src = black_box(&[3, 4, 5]);
            let greedy = net.greedy(src, golden::MAX_TGT_LEN, &mut out, SCRATCH);
            black_box(&out);
            let beam = net.beam_search::<{ golden::LARGEST_BEAM }, _>(
                src,
                2,
                0.6,
                golden::MAX_TGT_LEN,
                SCRATCH,
            );
            let best = beam.map(|found| found.get(0).map(|h| h.tokens.len()));
            black_box(&best);
            i32::from(greedy.is_err() || best.is_err())
        }
        Err(_) => 1,
    };
    semihosting::process::exit(status)
}

#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    board::exit_on_panic()
}
