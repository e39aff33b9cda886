//! Evaluates one input many times with the rules compiled natively, for profilers that need
//! symbols (callgrind, perf): `profile INPUT DATA N`. docs/performance.md shows how to build and
//! run it.

use std::hint::black_box;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, data, n] = args.as_slice() else {
        eprintln!("usage: profile INPUT.json DATA.json ITERATIONS");
        return ExitCode::from(2);
    };
    let read =
        |path: &str| std::fs::read(path).map_err(|e| eprintln!("error: cannot read {path}: {e}"));
    let (Ok(input), Ok(data)) = (read(input), read(data)) else {
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("error: ITERATIONS must be a number, not {n}");
        return ExitCode::from(2);
    };
    // Settings read once and kept, as the module keeps them.
    let mut cache = policy::SettingsCache::<policy::cache::Heap>::new();
    let mut bytes = 0;
    for _ in 0..n {
        let outcome = cache.decide(black_box(&input), Some(&data));
        bytes += outcome.render(policy::Entrypoint::Decision).len();
    }
    println!("{bytes} bytes of answers");
    ExitCode::SUCCESS
}
