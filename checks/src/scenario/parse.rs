//! The scenario file format (docs/scenarios.md has it for readers):
//!
//! ```text
//! about: insmod cls_cgroup races a tc filter add and a packet ...
//!     (a field continues on lines that start with whitespace)
//! loom: exhaustive                         | bounded N: REASON | shuttle-only: REASON
//! config: hash=collide max_threads=8       (optional; Config::apply_settings's words)
//! killer: design v2.6.34                   | fault NAME
//! expect netcls-load-first fixed: pass
//! expect *: finding container_of-type-confusion NULL-dereference
//!
//! setup:
//!     fork T0 T1
//! thread 1:
//!     insmod net_cls
//! thread 2:
//!     tc-add F0
//!     classify T1
//! ```
//!
//! `expect DESIGN...: VERDICT` gives the verdict of the designs it names; `expect *:` that of
//! every other design. Every design must end up with exactly one. `#` starts a comment line.
//! Every error names the line and what is wrong.

use std::collections::BTreeMap;

use cgmodel::{Config, Design, Fault, Step};

use super::{Expect, Killer, LoomPlan, Scenario};

/// loom's thread limit, the main thread included.
const LOOM_MAX_THREADS: usize = 5;

/// A malformed scenario: the line (1-based) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Line number (the last line for something missing).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ParseError {}

fn err(line: usize, reason: impl Into<String>) -> ParseError {
    ParseError {
        line,
        reason: reason.into(),
    }
}

/// One header field: its line, key and value (continuation lines joined).
struct Field {
    line: usize,
    key: String,
    value: String,
}

/// Parses the file `text` of scenario `name`.
pub fn parse(name: &str, text: &str) -> Result<Scenario, ParseError> {
    let mut fields: Vec<Field> = Vec::new();
    let mut setup: Option<Vec<Step>> = None;
    let mut threads: Vec<Vec<Step>> = Vec::new();
    // Where indented lines go: the last header field, or a section's steps.
    enum Into {
        Nothing,
        Field,
        Setup,
        Thread,
    }
    let mut into = Into::Nothing;
    let last = text.lines().count().max(1);
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with(char::is_whitespace) {
            let body = line.trim();
            match into {
                Into::Nothing => {
                    return Err(err(
                        n,
                        format!("indented line outside a field or section: `{body}`"),
                    ))
                }
                Into::Field => {
                    let f = fields.last_mut().expect("a field is open");
                    f.value.push(' ');
                    f.value.push_str(body);
                }
                Into::Setup | Into::Thread => {
                    let step: Step = body.parse().map_err(|e: String| err(n, e))?;
                    match into {
                        Into::Setup => setup.as_mut().expect("setup open").push(step),
                        _ => {
                            threads.last_mut().expect("thread open").push(step);
                            super::check_tasks(&threads).map_err(|e| err(n, e))?;
                        }
                    }
                }
            }
            continue;
        }
        if line == "setup:" {
            if setup.is_some() {
                return Err(err(n, "a second `setup:` section"));
            }
            if !threads.is_empty() {
                return Err(err(n, "`setup:` comes before the threads"));
            }
            setup = Some(Vec::new());
            into = Into::Setup;
            continue;
        }
        if let Some(t) = line
            .strip_prefix("thread ")
            .and_then(|t| t.strip_suffix(':'))
        {
            let t: usize = t
                .parse()
                .map_err(|_| err(n, format!("bad thread number `{t}`")))?;
            if t != threads.len() + 1 {
                return Err(err(
                    n,
                    format!("`thread {t}:` out of order (threads are numbered from 1, in order; expected {})", threads.len() + 1),
                ));
            }
            if let Some(prev) = threads.last() {
                if prev.is_empty() {
                    return Err(err(n, format!("thread {} has no steps", threads.len())));
                }
            }
            threads.push(Vec::new());
            into = Into::Thread;
            continue;
        }
        if setup.is_some() || !threads.is_empty() {
            return Err(err(
                n,
                format!("expected an indented step, `thread N:` or the end, got `{line}`"),
            ));
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| err(n, format!("expected `key: value`, got `{line}`")))?;
        fields.push(Field {
            line: n,
            key: key.trim().to_string(),
            value: value.trim().to_string(),
        });
        into = Into::Field;
    }
    let setup = setup.unwrap_or_default();
    if threads.is_empty() {
        return Err(err(last, "no `thread 1:` section"));
    }
    if threads.last().is_some_and(Vec::is_empty) {
        return Err(err(last, format!("thread {} has no steps", threads.len())));
    }

    let mut about = None;
    let mut loom = None;
    let mut settings = String::new();
    let mut killer = None;
    let mut expect: BTreeMap<Design, (usize, Expect)> = BTreeMap::new();
    let mut others: Option<(usize, Expect)> = None;
    for f in &fields {
        let once = |seen: bool| {
            if seen {
                Err(err(f.line, format!("`{}` given twice", f.key)))
            } else {
                Ok(())
            }
        };
        match f.key.as_str() {
            "about" => {
                once(about.is_some())?;
                if f.value.is_empty() {
                    return Err(err(f.line, "`about` is empty"));
                }
                about = Some(f.value.clone());
            }
            "loom" => {
                once(loom.is_some())?;
                loom = Some(loom_plan(f)?);
            }
            "config" => {
                once(!settings.is_empty())?;
                Config::default()
                    .apply_settings(&f.value)
                    .map_err(|e| err(f.line, e))?;
                settings = f.value.clone();
            }
            "killer" => {
                once(killer.is_some())?;
                killer = Some(parse_killer(f)?);
            }
            k if k == "expect" || k.starts_with("expect ") => {
                let who = k.strip_prefix("expect").unwrap_or("").trim();
                let verdict = parse_expect(f)?;
                if who.is_empty() {
                    return Err(err(
                        f.line,
                        "`expect` names designs or `*`: `expect *: pass`",
                    ));
                }
                for d in who.split_whitespace() {
                    if d == "*" {
                        if others.is_some() {
                            return Err(err(f.line, "`expect *` given twice"));
                        }
                        others = Some((f.line, verdict.clone()));
                        continue;
                    }
                    let design: Design = d.parse().map_err(|e: String| err(f.line, e))?;
                    if let Some((l, _)) = expect.get(&design) {
                        return Err(err(
                            f.line,
                            format!("design {design} already expected on line {l}"),
                        ));
                    }
                    expect.insert(design, (f.line, verdict.clone()));
                }
            }
            other => {
                return Err(err(
                    f.line,
                    format!("unknown field `{other}` (about, loom, config, killer, expect)"),
                ))
            }
        }
    }
    let missing = |what: &str| {
        err(
            fields.last().map_or(1, |f| f.line),
            format!("missing `{what}:`"),
        )
    };
    let about = about.ok_or_else(|| missing("about"))?;
    let loom = loom.ok_or_else(|| missing("loom"))?;
    let killer = killer.ok_or_else(|| missing("killer"))?;
    let mut verdicts = BTreeMap::new();
    for &d in Design::ALL {
        let e = match (expect.remove(&d), &others) {
            (Some((_, e)), _) => e,
            (None, Some((_, e))) => e.clone(),
            (None, None) => {
                return Err(missing(&format!("expect {d}` (or `expect *")));
            }
        };
        verdicts.insert(d, e);
    }
    // Checks that hold the file to what the engines can do.
    let total = threads.len() + 1;
    let cfg_line = fields
        .iter()
        .find(|f| f.key == "loom")
        .map_or(1, |f| f.line);
    match &loom {
        LoomPlan::ShuttleOnly(_) if total <= LOOM_MAX_THREADS => {
            return Err(err(
                cfg_line,
                format!("loom can run {total} threads: say `exhaustive` or `bounded N: why`"),
            ))
        }
        LoomPlan::Exhaustive | LoomPlan::Bounded(..) if total > LOOM_MAX_THREADS => {
            return Err(err(
                cfg_line,
                format!("{total} threads (the main one included) are more than loom's {LOOM_MAX_THREADS}: say `shuttle-only: why`"),
            ))
        }
        _ => {}
    }
    let mut cfg = Config {
        max_threads: total,
        ..Config::default()
    };
    cfg.apply_settings(&settings).map_err(|e| err(1, e))?;
    if total > cfg.max_threads {
        return Err(err(
            fields
                .iter()
                .find(|f| f.key == "config")
                .map_or(1, |f| f.line),
            format!("{total} threads need `config: max_threads={total}` (or more)"),
        ));
    }
    if let Killer::Design(d) = killer {
        if !verdicts[&d].is_finding() {
            let l = fields
                .iter()
                .find(|f| f.key == "killer")
                .map_or(1, |f| f.line);
            return Err(err(
                l,
                format!("the killer {d} is expected to pass: it cannot kill"),
            ));
        }
    }
    Ok(Scenario {
        name: name.to_string(),
        about,
        setup,
        threads,
        expect: verdicts,
        settings,
        loom,
        killer,
    })
}

fn loom_plan(f: &Field) -> Result<LoomPlan, ParseError> {
    let (plan, why) = match f.value.split_once(':') {
        Some((p, w)) => (p.trim(), w.trim()),
        None => (f.value.trim(), ""),
    };
    let need_why = |what: &str| {
        if why.is_empty() {
            Err(err(
                f.line,
                format!("`loom: {what}` needs a reason: `loom: {what}: why`"),
            ))
        } else {
            Ok(why.to_string())
        }
    };
    match plan.split_whitespace().collect::<Vec<_>>().as_slice() {
        // A note after `exhaustive:` is what the run measured; it changes nothing.
        ["exhaustive"] => Ok(LoomPlan::Exhaustive),
        ["bounded", n] => {
            let n: usize = n
                .parse()
                .map_err(|_| err(f.line, format!("`bounded` needs a number, got `{n}`")))?;
            Ok(LoomPlan::Bounded(n, need_why(&format!("bounded {n}"))?))
        }
        ["shuttle-only"] => Ok(LoomPlan::ShuttleOnly(need_why("shuttle-only")?)),
        _ => Err(err(
            f.line,
            format!(
                "`loom:` is `exhaustive`, `bounded N: why` or `shuttle-only: why`, got `{}`",
                f.value
            ),
        )),
    }
}

fn parse_killer(f: &Field) -> Result<Killer, ParseError> {
    match f.value.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["fault", name] => Ok(Killer::Fault(
            name.parse::<Fault>().map_err(|e| err(f.line, e))?,
        )),
        ["design", name] => Ok(Killer::Design(
            name.parse::<Design>().map_err(|e| err(f.line, e))?,
        )),
        _ => Err(err(
            f.line,
            format!(
                "`killer:` is `fault NAME` or `design NAME`, got `{}`",
                f.value
            ),
        )),
    }
}

fn parse_expect(f: &Field) -> Result<Expect, ParseError> {
    let words: Vec<&str> = f.value.split_whitespace().collect();
    match words.as_slice() {
        ["pass"] => Ok(Expect::Pass),
        ["finding", names @ ..] if !names.is_empty() => Ok(Expect::Finding(
            names.iter().map(|s| s.to_string()).collect(),
        )),
        _ => Err(err(
            f.line,
            format!(
                "a verdict is `pass` or `finding NAME...`, got `{}`",
                f.value
            ),
        )),
    }
}
