//! The scenario file format: a good file parses to what it says; every way a file can be wrong
//! is an error naming its line, never a panic; and the catalog's own files all parse.

use cgchecks::scenario::parse::parse;
use cgchecks::scenario::{Expect, Killer};
use cgmodel::{Design, Fault};

const GOOD: &str = "about: two threads\n    over two lines\nloom: exhaustive\nkiller: fault attach-no-pin\nexpect *: pass\n\nsetup:\n    fork T0 T1\nthread 1:\n    attach T1 m0\nthread 2:\n    exit T1\n";

#[test]
fn a_good_file_parses() {
    let s = parse("x", GOOD).unwrap();
    assert_eq!(s.about, "two threads over two lines");
    assert_eq!(s.threads.len(), 2);
    assert_eq!(s.setup.len(), 1);
    assert!(Design::ALL.iter().all(|d| *s.expect(*d) == Expect::Pass));
    assert_eq!(s.killer, Killer::Fault(Fault::AttachNoPin));
}

/// Every way a file can be wrong is an error naming its line, never a panic.
#[test]
fn malformed_files_name_their_line() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("loom: exhaustive", "loom: sometimes", 3, "`loom:` is"),
        (
            "loom: exhaustive",
            "loom: bounded x: why",
            3,
            "needs a number",
        ),
        ("loom: exhaustive", "loom: bounded 3", 3, "needs a reason"),
        (
            "loom: exhaustive",
            "loom: shuttle-only: many",
            3,
            "loom can run 3 threads",
        ),
        (
            "killer: fault attach-no-pin",
            "killer: fault nope",
            4,
            "unknown fault `nope`",
        ),
        (
            "killer: fault attach-no-pin",
            "killer: design v2.6.34",
            4,
            "cannot kill",
        ),
        (
            "expect *: pass",
            "expect nope: pass",
            5,
            "unknown design `nope`",
        ),
        (
            "expect *: pass",
            "expect v2.6.34: pass",
            5,
            "missing `expect netcls-load-first",
        ),
        ("expect *: pass", "expect *: maybe", 5, "a verdict is"),
        (
            "expect *: pass",
            "expect *: pass\nexpect *: pass",
            6,
            "`expect *` given twice",
        ),
        (
            "    attach T1 m0",
            "    frob T1",
            10,
            "unknown operation `frob`",
        ),
        ("thread 2:", "thread 3:", 11, "out of order"),
        (
            "    attach T1 m0",
            "    exit T1",
            12,
            "T1 runs in thread 1 and thread 2",
        ),
        (
            "    attach T1 m0\nthread 2:\n    exit T1",
            "    fork T1 T2\nthread 2:\n    exit T2",
            12,
            "T2 runs in thread 2 while thread 1 forks it",
        ),
        (
            "    attach T1 m0\n",
            "    exit T2\n    fork T1 T2\n",
            11,
            "T2 runs in thread 1 before the fork that creates it",
        ),
        (
            "about: two threads",
            "colour: blue",
            1,
            "unknown field `colour`",
        ),
        (
            "loom: exhaustive\n",
            "loom: exhaustive\nconfig: hash=round\n",
            4,
            "unknown hash",
        ),
        (
            "loom: exhaustive\n",
            "loom: exhaustive\nconfig: preempt=voluntary\n",
            4,
            "unknown preempt",
        ),
        (
            "loom: exhaustive\n",
            "loom: exhaustive\nconfig: rcu=preempt preempt=none\n",
            4,
            "rcu=preempt needs preempt=full",
        ),
    ];
    for (from, to, line, want) in cases {
        let text = GOOD.replacen(from, to, 1);
        let e = parse("x", &text).expect_err(to);
        assert_eq!(e.line, *line, "`{to}`: {e}");
        assert!(e.reason.contains(want), "`{to}`: {e}");
    }
    assert!(parse("x", "").is_err());
    assert!(parse("x", "thread 1:\n").is_err());
    assert!(parse("x", "   indented first\n").is_err());
}
