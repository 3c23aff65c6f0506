//! 404's prompt selection (competition.md §4.2): carry-over prompts sampled from the previous
//! round's, then new ones from the pool minus the carry-over, with CPython's `random.Random`.

use super::pyrandom::PyRandom;

/// `sample_up_to`: everything (consuming no randomness) when there are at most `k` items.
fn sample_up_to(rng: &mut PyRandom, items: &[String], k: usize) -> Vec<String> {
    if items.len() <= k {
        return items.to_vec();
    }
    rng.sample(items, k).unwrap_or_default()
}

/// The selected prompt URLs: `carryover` from `previous` (when there is a previous round and
/// `carryover > 0`), then `count − len(carry)` from `pool` without the carried ones.
pub fn select_prompts(
    seed: u32,
    previous: &[String],
    pool: &[String],
    count: usize,
    carryover: usize,
) -> Vec<String> {
    let mut rng = PyRandom::new(i128::from(seed));
    let carry = if carryover > 0 {
        sample_up_to(&mut rng, previous, carryover)
    } else {
        Vec::new()
    };
    let carried: std::collections::HashSet<&str> = carry.iter().map(String::as_str).collect();
    let rest: Vec<String> = pool
        .iter()
        .filter(|p| !carried.contains(p.as_str()))
        .cloned()
        .collect();
    let new = sample_up_to(&mut rng, &rest, count.saturating_sub(carry.len()));
    let mut out = carry;
    out.extend(new);
    out
}

/// Only the carry-over part (what can be checked without the global pool).
pub fn select_carryover(seed: u32, previous: &[String], carryover: usize) -> Vec<String> {
    if carryover == 0 {
        return Vec::new();
    }
    sample_up_to(&mut PyRandom::new(i128::from(seed)), previous, carryover)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::pyrandom::PyRandom;
    use sn17_storage::pyjson::{self, Value};

    fn fixture() -> Value {
        pyjson::parse(include_str!("../../tests/fixtures/prompt_vectors.json"))
            .expect("fixture parses")
    }

    fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
        v.as_object()
            .and_then(|o| o.get(k))
            .unwrap_or_else(|| panic!("missing {k}"))
    }

    fn ints(v: &Value) -> Vec<i128> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_i128().expect("int"))
            .collect()
    }

    fn strings(v: &Value) -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|x| x.as_str().expect("str").to_string())
            .collect()
    }

    #[test]
    fn mt19937_matches_cpython_vectors() {
        let f = fixture();
        for case in get(&f, "getrandbits32").as_array().expect("cases") {
            let seed: i128 = get(case, "seed")
                .as_str()
                .expect("seed")
                .parse()
                .expect("int");
            let mut r = PyRandom::new(seed);
            let want = ints(get(case, "values"));
            let got: Vec<i128> = (0..want.len())
                .map(|_| i128::from(r.getrandbits(32)))
                .collect();
            assert_eq!(got, want, "seed {seed}");
        }
        for case in get(&f, "getrandbits").as_array().expect("cases") {
            let mut r = PyRandom::new(get(case, "seed").as_i128().expect("seed"));
            let k = get(case, "k").as_i128().expect("k") as u32;
            let want = ints(get(case, "values"));
            let got: Vec<i128> = (0..want.len())
                .map(|_| i128::from(r.getrandbits(k)))
                .collect();
            assert_eq!(got, want, "getrandbits({k})");
        }
        for case in get(&f, "randbelow").as_array().expect("cases") {
            let mut r = PyRandom::new(get(case, "seed").as_i128().expect("seed"));
            let n = get(case, "n").as_i128().expect("n") as u64;
            let want = ints(get(case, "values"));
            let got: Vec<i128> = (0..want.len())
                .map(|_| i128::from(r.randbelow(n)))
                .collect();
            assert_eq!(got, want, "_randbelow({n})");
        }
    }

    #[test]
    fn sample_matches_cpython_with_both_methods() {
        let f = fixture();
        let cases = get(&f, "sample").as_array().expect("cases");
        assert!(cases.len() >= 10);
        for case in cases {
            let mut r = PyRandom::new(get(case, "seed").as_i128().expect("seed"));
            let n = get(case, "n").as_i128().expect("n") as usize;
            let k = get(case, "k").as_i128().expect("k") as usize;
            let got: Vec<i128> = r
                .sample_indices(n, k)
                .expect("k ≤ n")
                .into_iter()
                .map(|i| i as i128)
                .collect();
            assert_eq!(got, ints(get(case, "result")), "sample(range({n}), {k})");
        }
    }

    #[test]
    fn selection_matches_404_algorithm_run_on_cpython() {
        let f = fixture();
        let lists = get(&f, "lists");
        let derived = get(&f, "lists_derived");
        let list = |name: &str| -> Vec<String> {
            if let Some(v) = lists.as_object().and_then(|o| o.get(name)) {
                return strings(v);
            }
            let mut out = Vec::new();
            for part in get(derived, name).as_array().expect("slices") {
                let p = part.as_array().expect("slice");
                let base = strings(get(lists, p[0].as_str().expect("name")));
                let (a, b) = (
                    p[1].as_i128().expect("a") as usize,
                    p[2].as_i128().expect("b") as usize,
                );
                out.extend_from_slice(&base[a..b]);
            }
            out
        };
        for case in get(&f, "select").as_array().expect("cases") {
            let name = get(case, "name").as_str().expect("name");
            let seed = get(case, "seed").as_i128().expect("seed") as u32;
            let prev = list(get(case, "previous").as_str().expect("previous"));
            let pool = list(get(case, "pool").as_str().expect("pool"));
            let count = get(case, "count").as_i128().expect("count") as usize;
            let carry = get(case, "carryover").as_i128().expect("carryover") as usize;
            assert_eq!(
                select_prompts(seed, &prev, &pool, count, carry),
                strings(get(case, "result")),
                "{name}"
            );
        }
    }

    #[test]
    fn competition0_carryover_is_reproduced_from_seed_and_previous_prompts() {
        let root = std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/competition-state/404-competition-0"
        ));
        if !root.join("config.json").is_file() {
            eprintln!("SKIP: {} is absent", root.display());
            return;
        }
        let read = |p: String| std::fs::read_to_string(root.join(p)).expect("readable");
        let mut checked = 0;
        for n in 1..=3u64 {
            let seed: u32 = read(format!("rounds/{n}/seed.json"))
                .trim()
                .trim_start_matches("{\"seed\": ")
                .trim_end_matches('}')
                .parse()
                .expect("seed");
            let prev = sn17_storage::state_repo::Prompts::parse(&read(format!(
                "rounds/{}/prompts.txt",
                n - 1
            )))
            .0;
            let cur =
                sn17_storage::state_repo::Prompts::parse(&read(format!("rounds/{n}/prompts.txt")))
                    .0;
            let carry = select_carryover(seed, &prev, 64);
            assert_eq!(carry.len(), 64);
            assert_eq!(carry[..], cur[..64], "round {n}");
            checked += 1;
        }
        assert_eq!(checked, 3);
    }
}
