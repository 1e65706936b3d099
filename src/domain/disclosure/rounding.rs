//! Controlled rounding of one metric's figures to a base, kept consistent from one release to
//! the next.
//!
//! A metric is published as a *star* of tables sharing one total: the figure per country and,
//! for every breakdown, the figure per bucket, each table adding up to the metric's total. Every
//! figure is rounded to one of the two multiples of the base next to it (a multiple stays as it
//! is), and in every table the rounded parts add up to the one rounded total. So the true value
//! of a figure published as `r` lies strictly within one base of `r`, and the published tables
//! are additive, which leaves nothing for a subtraction to recover.
//!
//! Between releases a figure whose true value did not change keeps its rounded figure; one
//! that grew never gets a smaller figure, one that shrank never a larger one. Where the tables
//! cannot all add up under that rule (rare: the rounding errors of unchanged figures have piled
//! up against the new total), the result says which figures would move against their change
//! ([`Rounded::against_change`]), and the caller keeps the metric's previous figures instead.

use crate::error::{Error, Result};

/// A figure to round: its true value now and, if an earlier release published it, what it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Figure {
    /// The true value.
    pub value: i64,
    /// The true value and rounded figure of the previous release, if it had this figure.
    pub before: Option<Prior>,
}

/// A figure as the previous release had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prior {
    /// Its true value then.
    pub value: i64,
    /// What was published for it then: its rounded figure, or its true value where that was
    /// published exactly (a total).
    pub rounded: i64,
}

/// One metric's figures: a total and the tables whose parts each add up to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Star {
    /// The metric's total.
    pub total: Figure,
    /// The tables (per country, per bucket of each breakdown), each adding up to `total`.
    pub tables: Vec<Vec<Figure>>,
}

/// The rounded figures, in the shape of the [`Star`] they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rounded {
    /// The rounded total.
    pub total: i64,
    /// Whether the total moved against its true change.
    pub total_against_change: bool,
    /// The rounded parts of each table; each table adds up to `total`.
    pub tables: Vec<Vec<i64>>,
    /// For each part, whether it moved against its true change.
    pub against: Vec<Vec<bool>>,
}

impl Rounded {
    /// How many figures moved against their true change.
    pub fn against_change(&self) -> usize {
        usize::from(self.total_against_change) + self.against.iter().flatten().filter(|a| **a).count()
    }
}

/// The rounded figures a figure may take, all multiples of the base: `min..=max` those within
/// one base of its value (a multiple keeps its value or moves one base; 0 stays 0, and nothing
/// above 0 becomes 0), `lo..=hi` those that also follow its change since the previous release.
#[derive(Debug, Clone, Copy)]
struct Choice {
    min: i64,
    max: i64,
    lo: i64,
    hi: i64,
    value: i64,
    preferred: i64,
}

impl Choice {
    fn of(figure: &Figure, base: i64) -> Choice {
        let value = figure.value;
        let floor = value.div_euclid(base) * base;
        let (min, max) = match value {
            0 => (0, 0),
            v if v == floor && v >= 2 * base => (v - base, v + base),
            v if v == floor => (v, v + base),
            _ => (floor, floor + base),
        };
        // After an exact figure the next one must not fall short of it if the count grew (nor
        // exceed it if it shrank): else the change would be pinned between the two. An exact
        // figure whose count did not change is known already; its rounding is free.
        let prior = figure.before;
        let (lo, hi) = match prior {
            None => (min, max),
            Some(p) => {
                let up = (p.rounded + base - 1).div_euclid(base) * base;
                let down = p.rounded.div_euclid(base) * base;
                match value.cmp(&p.value) {
                    std::cmp::Ordering::Greater => (up.clamp(min, max), max),
                    std::cmp::Ordering::Less => (min, down.clamp(min, max)),
                    std::cmp::Ordering::Equal if up == down => (up.clamp(min, max), up.clamp(min, max)),
                    std::cmp::Ordering::Equal => (min, max),
                }
            }
        };
        let nearest = if (value - floor) * 2 >= base && value != floor {
            floor + base
        } else {
            floor
        };
        let preferred = match prior {
            Some(p) if p.rounded % base == 0 && (lo..=hi).contains(&p.rounded) => p.rounded,
            _ => nearest.clamp(lo, hi),
        };
        Choice {
            min,
            max,
            lo,
            hi,
            value,
            preferred,
        }
    }
}

/// Rounds a metric's figures to `base` (at least 1). Fails if a table does not add up to the
/// total (the figures would be inconsistent, which is a bug upstream).
pub fn round(star: &Star, base: i64) -> Result<Rounded> {
    let base = base.max(1);
    for (index, table) in star.tables.iter().enumerate() {
        let sum: i64 = table.iter().map(|f| f.value).sum();
        if sum != star.total.value {
            return Err(Error::internal(format!(
                "release table {index} adds up to {sum}, not to its total {}",
                star.total.value
            )));
        }
    }
    let total = Choice::of(&star.total, base);
    let tables: Vec<Vec<Choice>> = star
        .tables
        .iter()
        .map(|t| t.iter().map(|f| Choice::of(f, base)).collect())
        .collect();
    let chosen = (0..=(total.max - total.min) / base)
        .map(|step| total.min + step * base)
        .filter(|x| tables.iter().all(|t| reachable(t, *x)))
        .min_by_key(|x| {
            let against = usize::from(*x < total.lo || *x > total.hi)
                + tables.iter().map(|t| against_needed(t, *x, base)).sum::<usize>();
            (against, *x != total.preferred, (*x - total.value).abs(), *x)
        })
        .ok_or_else(|| Error::internal("no rounded total fits every table"))?;
    let mut rounded = Vec::with_capacity(tables.len());
    let mut against = Vec::with_capacity(tables.len());
    for table in &tables {
        let parts = fill(table, chosen, base);
        against.push(table.iter().zip(&parts).map(|(c, p)| *p < c.lo || *p > c.hi).collect());
        rounded.push(parts);
    }
    Ok(Rounded {
        total: chosen,
        total_against_change: chosen < total.lo || chosen > total.hi,
        tables: rounded,
        against,
    })
}

/// Whether a table's parts can add up to `x` at all.
fn reachable(table: &[Choice], x: i64) -> bool {
    let min: i64 = table.iter().map(|c| c.min).sum();
    let max: i64 = table.iter().map(|c| c.max).sum();
    (min..=max).contains(&x)
}

/// How many steps of the base the parts of a table must take outside their `lo..=hi` for the
/// table to add up to `x`.
fn against_needed(table: &[Choice], x: i64, base: i64) -> usize {
    let lo: i64 = table.iter().map(|c| c.lo).sum();
    let hi: i64 = table.iter().map(|c| c.hi).sum();
    (((x - hi).max(0) + (lo - x).max(0)) / base) as usize
}

/// Picks each part's figure so the table adds up to `x`: from each part's preferred figure
/// (its previous one, else the nearest multiple), moving one base at a time the part furthest
/// from its value, first within the parts' `lo..=hi`, and only if that cannot reach `x`
/// against the change of the largest parts.
fn fill(table: &[Choice], x: i64, base: i64) -> Vec<i64> {
    let mut parts: Vec<i64> = table.iter().map(|c| c.preferred).collect();
    let mut missing = (x - parts.iter().sum::<i64>()) / base;
    for within in [true, false] {
        while missing != 0 {
            let up = missing > 0;
            let movable = |i: &usize| {
                let c = &table[*i];
                let (lo, hi) = if within { (c.lo, c.hi) } else { (c.min, c.max) };
                if up {
                    parts[*i] < hi
                } else {
                    parts[*i] > lo
                }
            };
            let pick = (0..table.len()).filter(movable).max_by_key(|i| {
                let gap = if up {
                    table[*i].value - parts[*i]
                } else {
                    parts[*i] - table[*i].value
                };
                // Within the change: the part furthest from its value; against it: the largest.
                if within {
                    (gap, std::cmp::Reverse(*i))
                } else {
                    (table[*i].value, std::cmp::Reverse(*i))
                }
            });
            let Some(i) = pick else { break };
            parts[i] += if up { base } else { -base };
            missing += if up { -1 } else { 1 };
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(values: &[i64]) -> Vec<Figure> {
        values
            .iter()
            .map(|v| Figure {
                value: *v,
                before: None,
            })
            .collect()
    }

    fn star(total: i64, tables: &[&[i64]]) -> Star {
        Star {
            total: Figure {
                value: total,
                before: None,
            },
            tables: tables.iter().map(|t| fresh(t)).collect(),
        }
    }

    #[test]
    fn every_table_adds_up_to_the_one_rounded_total() {
        let s = star(4414, &[&[4000, 401, 13], &[1, 1, 4412], &[2207, 2207]]);
        let r = round(&s, 5).expect("round");
        assert_eq!(r.total % 5, 0);
        assert!((r.total - 4414).abs() < 5);
        for (table, parts) in s.tables.iter().zip(&r.tables) {
            assert_eq!(parts.iter().sum::<i64>(), r.total);
            for (f, p) in table.iter().zip(parts) {
                assert_eq!(p % 5, 0);
                assert!((p - f.value).abs() < 5, "{p} for {}", f.value);
            }
        }
        assert_eq!(r.against_change(), 0);
    }

    #[test]
    fn multiples_and_zeros_stay_as_they_are() {
        let r = round(&star(20, &[&[0, 10, 10], &[0, 0, 20]]), 5).expect("round");
        assert_eq!(r.total, 20);
        assert_eq!(r.tables, vec![vec![0, 10, 10], vec![0, 0, 20]]);
    }

    #[test]
    fn a_table_that_does_not_add_up_is_refused() {
        assert!(round(&star(7, &[&[3, 3]]), 5).is_err());
    }

    /// The case that made plain re-rounding unsafe: a figure of 3 published as 5, then as 0
    /// once its neighbour grew, which pins it between 1 and 4 to anyone who assumes counts
    /// only grow. Kept consistent, it stays at 5.
    #[test]
    fn an_unchanged_figure_keeps_its_rounding() {
        let first = round(&star(6, &[&[3, 3]]), 5).expect("round");
        let up: Vec<usize> = (0..2).filter(|i| first.tables[0][*i] == 5).collect();
        assert_eq!(up.len(), 1);
        let kept = up[0];
        let grown = 1 - kept;
        let mut values = [3, 3];
        values[grown] = 6;
        let next = Star {
            total: Figure {
                value: 9,
                before: Some(Prior {
                    value: 6,
                    rounded: first.total,
                }),
            },
            tables: vec![(0..2)
                .map(|i| Figure {
                    value: values[i],
                    before: Some(Prior {
                        value: 3,
                        rounded: first.tables[0][i],
                    }),
                })
                .collect()],
        };
        let second = round(&next, 5).expect("round");
        assert_eq!(second.tables[0][kept], 5, "{second:?}");
        assert_eq!(second.total, 10);
        assert_eq!(second.against_change(), 0);
    }
}

#[cfg(test)]
mod series {
    use super::*;
    use crate::demo::Seeded;

    /// Random series of releases over records (country, day, kind, count) added and
    /// retracted: every figure stays within a base of its count, every table adds up to the
    /// total, and moving against a change (so keeping the previous figures) is rare.
    #[test]
    fn random_series_stay_valid_and_rarely_need_the_previous_figures() {
        let (mut releases, mut kept) = (0, 0);
        for seed in 1..300u64 {
            let mut rng = Seeded(seed * 7919 + 13);
            let mut records: Vec<[i64; 4]> = Vec::new();
            let mut prior: Option<(Star, Rounded)> = None;
            for _ in 0..6 {
                for _ in 0..rng.below(5) {
                    records.push([rng.below(5), rng.below(3), rng.below(3), 1 + rng.below(4)]);
                }
                if rng.below(3) == 0 && !records.is_empty() {
                    records.remove(rng.below(records.len() as u64) as usize);
                }
                let mut values = [vec![0i64; 5], vec![0i64; 3], vec![0i64; 3]];
                for r in &records {
                    for (table, key) in values.iter_mut().zip(r) {
                        table[*key as usize] += r[3];
                    }
                }
                let before = |j: Option<usize>, i: usize| {
                    prior.as_ref().map(|(s, r)| match j {
                        None => Prior {
                            value: s.total.value,
                            rounded: r.total,
                        },
                        Some(j) => Prior {
                            value: s.tables[j][i].value,
                            rounded: r.tables[j][i],
                        },
                    })
                };
                let star = Star {
                    total: Figure {
                        value: values[0].iter().sum(),
                        before: before(None, 0),
                    },
                    tables: values
                        .iter()
                        .enumerate()
                        .map(|(j, t)| {
                            t.iter()
                                .enumerate()
                                .map(|(i, v)| Figure {
                                    value: *v,
                                    before: before(Some(j), i),
                                })
                                .collect()
                        })
                        .collect(),
                };
                let r = round(&star, 5).expect("round");
                assert!((r.total - star.total.value).abs() <= 5 && r.total % 5 == 0);
                for (figures, parts) in star.tables.iter().zip(&r.tables) {
                    assert_eq!(parts.iter().sum::<i64>(), r.total);
                    for (f, p) in figures.iter().zip(parts) {
                        assert!(p % 5 == 0 && (p - f.value).abs() <= 5);
                        assert!(f.value == 0 || *p > 0 || f.value < 5, "{} shown as 0", f.value);
                    }
                }
                releases += 1;
                if r.against_change() > 0 {
                    kept += 1;
                } else {
                    prior = Some((star, r));
                }
            }
        }
        assert!(
            kept * 100 < releases,
            "{kept} of {releases} releases kept previous figures"
        );
    }
}
