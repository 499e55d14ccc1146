//! Spells the backend switch once: `backend_loom` (`--features loom` or `RUSTFLAGS="--cfg loom"`),
//! `backend_shuttle` (`--features shuttle`) or `backend_std` (neither).

fn main() {
    cfg_aliases::cfg_aliases! {
        backend_loom: { any(loom, feature = "loom") },
        backend_shuttle: { all(feature = "shuttle", not(backend_loom)) },
        backend_std: { not(any(backend_loom, backend_shuttle)) },
    }
}
