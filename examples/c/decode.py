#!/usr/bin/env python3
"""picoformer from Python through the C API (ctypes, standard library only).

    cargo build -p picoformer-ffi --release
    python3 examples/c/decode.py target/release/libpicoformer_ffi.so MODEL.pfm 5,9,12
    python3 examples/c/decode.py LIB MODEL.pfm --expect tests/golden/NAME/expected.json

The first form greedy-decodes the source tokens and prints them. The second decodes every
greedy case of a golden expected.json and checks PyTorch's tokens (exact) and score
(1e-4); it prints "N passed, N failed" and exits 1 on a failure.
"""
import ctypes as C
import json
import sys

PF_OK = 0
ALIGN = 16


class Model(C.Structure):  # pf_model: opaque, 256 bytes, 8-byte aligned
    _fields_ = [("_opaque", C.c_uint64 * 32)]


class Config(C.Structure):  # pf_config
    _fields_ = [
        (name, C.c_uint32)
        for name in (
            "d_model n_heads d_ff n_encoder_layers n_decoder_layers src_vocab tgt_vocab "
            "max_src_len max_tgt_len norm activation positional"
        ).split()
    ] + [
        ("layer_norm_eps", C.c_float),
        ("bos_id", C.c_uint32),
        ("eos_id", C.c_uint32),
        ("pad_id", C.c_uint32),
        ("scale_embeddings", C.c_bool),
        ("tie_output", C.c_bool),
        ("final_norm", C.c_bool),
        ("parameter_count", C.c_uint64),
    ]


def aligned(nbytes):
    """A ctypes buffer and a 16-byte aligned address inside it (keep both alive)."""
    raw = (C.c_uint8 * (nbytes + ALIGN))()
    addr = C.addressof(raw)
    return raw, C.c_void_p(addr + (-addr) % ALIGN)


class Picoformer:
    def __init__(self, library):
        lib = C.CDLL(library)
        lib.pf_status_message.restype = C.c_char_p
        lib.pf_status_message.argtypes = [C.c_int32]
        for name, args in {
            "pf_model_init": [C.POINTER(Model), C.c_void_p, C.c_size_t],
            "pf_model_config": [C.POINTER(Model), C.POINTER(Config)],
            "pf_greedy_scratch_bytes": [C.POINTER(Model), C.POINTER(C.c_size_t)],
            "pf_greedy": [
                C.POINTER(Model), C.POINTER(C.c_uint32), C.c_size_t, C.c_size_t,
                C.POINTER(C.c_uint32), C.c_size_t, C.POINTER(C.c_size_t),
                C.POINTER(C.c_float), C.c_void_p, C.c_size_t,
            ],
        }.items():
            getattr(lib, name).restype = C.c_int32
            getattr(lib, name).argtypes = args
        self.lib = lib

    def check(self, status):
        if status != PF_OK:
            raise RuntimeError(self.lib.pf_status_message(status).decode())

    def load(self, path):
        with open(path, "rb") as f:
            data = f.read()
        self.blob_raw, self.blob = aligned(len(data))  # the handle borrows this memory
        C.memmove(self.blob, data, len(data))
        self.model = Model()
        self.check(self.lib.pf_model_init(C.byref(self.model), self.blob, len(data)))
        self.config = Config()
        self.check(self.lib.pf_model_config(C.byref(self.model), C.byref(self.config)))
        need = C.c_size_t()
        self.check(self.lib.pf_greedy_scratch_bytes(C.byref(self.model), C.byref(need)))
        self.scratch_len = need.value
        self.scratch_raw, self.scratch = aligned(need.value)

    def greedy(self, src, max_len=None):
        max_len = max_len or self.config.max_tgt_len
        src_arr = (C.c_uint32 * len(src))(*src)
        out = (C.c_uint32 * max_len)()
        n, score = C.c_size_t(), C.c_float()
        self.check(
            self.lib.pf_greedy(
                C.byref(self.model), src_arr, len(src), max_len, out, max_len,
                C.byref(n), C.byref(score), self.scratch, self.scratch_len,
            )
        )
        return list(out[: n.value]), score.value


def main(argv):
    if len(argv) not in (4, 5) or (len(argv) == 5) != (argv[3] == "--expect"):
        sys.exit(__doc__)
    pf = Picoformer(argv[1])
    pf.load(argv[2])
    if len(argv) == 4:
        tokens, score = pf.greedy([int(t) for t in argv[3].split(",")])
        print(f"greedy ({score:.4f}): {' '.join(map(str, tokens))}")
        return 0
    with open(argv[4]) as f:
        cases = json.load(f)["greedy"]
    passed = failed = 0
    for i, case in enumerate(cases):
        tokens, score = pf.greedy(case["src"], case["max_len"])
        ok = tokens == case["tokens"] and abs(score - case["score"]) <= 1e-4
        print(f"test python/greedy/{i} ... {'ok' if ok else 'FAILED'}: {tokens}")
        passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
