//! A series of releases: one integer programme over every release at once (good_lp with the
//! pure-Rust microlp solver), minimised and maximised for each count and each change.
//!
//! Its variables are every count of one metric in every release: the total, the figures per
//! country and per bucket, and (when a breakdown is under audit) every country × bucket cell of
//! that breakdown, published or not, zero or not: the attacker does not know which are empty.
//! Its constraints are what the releases say (each figure's interval, each table adding up to
//! the total, each country's cells adding up to its figure and each bucket's cells to the
//! bucket's figure) and, beyond anything published, that counts only grow from one release to
//! the next, except those that truly shrank (by a retraction or a lower stated figure), which
//! the attacker is told shrank. That is the attacker who knows the figures are cumulative, and
//! is even told where records were withdrawn. (Told also which counts stayed exactly the same,
//! an attacker could pin country × bucket cells no release says anything about; nothing
//! published tells that, so it is not granted.)

use std::collections::BTreeMap;

use good_lp::{microlp, variable, Constraint, Expression, ProblemVariables, Solution, SolverModel, Variable};

use super::knowledge::{place, Bounds, Place, ReleaseView};

/// The knowledge of one metric over a series of releases, as an integer programme.
pub struct Programme {
    vars: ProblemVariables,
    index: BTreeMap<(usize, Place), Variable>,
    constraints: Vec<Constraint>,
    /// The breakdown cells modelled, per release.
    pub interior: Vec<Vec<Place>>,
}

fn sum(vars: impl IntoIterator<Item = Variable>) -> Expression {
    vars.into_iter().fold(Expression::from(0), |e, v| e + v)
}

impl Programme {
    /// The programme of `metric` over `releases`, with the country × bucket cells of
    /// `breakdown` when one is given.
    pub fn new(releases: &[ReleaseView], metric: &str, breakdown: Option<&str>) -> Programme {
        let mut vars = ProblemVariables::new();
        let mut index = BTreeMap::new();
        let mut constraints = Vec::new();
        let mut interior = Vec::new();
        let mut add = |vars: &mut ProblemVariables, r: usize, p: &Place, (lo, hi): Bounds| {
            let v = vars.add(variable().integer().min(lo as f64).max(hi as f64));
            index.insert((r, p.clone()), v);
            v
        };
        for (r, release) in releases.iter().enumerate() {
            let view = &release.metrics[metric];
            let total = add(&mut vars, r, &view.total_place(), view.total);
            let mut tables = Vec::new();
            for table in &view.tables {
                let parts: Vec<(Place, Variable)> = table
                    .iter()
                    .map(|(p, bounds)| (p.clone(), add(&mut vars, r, p, *bounds)))
                    .collect();
                constraints.push((sum(parts.iter().map(|(_, v)| *v)) - total).eq(0));
                tables.push(parts);
            }
            let mut cells = Vec::new();
            if let Some(dimension) = breakdown {
                let Some(column) = tables.iter().find(|t| t.first().is_some_and(|(p, _)| p.2 == dimension)) else {
                    interior.push(cells);
                    continue;
                };
                let mut by_bucket: BTreeMap<String, Vec<Variable>> = BTreeMap::new();
                for (country, t_c) in &tables[0] {
                    let mut row = Vec::new();
                    for (bucket, _) in column {
                        let cell = place(metric, &country.1, dimension, &bucket.3);
                        let x = add(&mut vars, r, &cell, (0, i64::from(i32::MAX)));
                        row.push(x);
                        by_bucket.entry(bucket.3.clone()).or_default().push(x);
                        cells.push(cell);
                    }
                    constraints.push((sum(row) - *t_c).eq(0));
                }
                for (bucket, s_b) in column {
                    let column_cells = by_bucket.remove(&bucket.3).unwrap_or_default();
                    constraints.push((sum(column_cells) - *s_b).eq(0));
                }
            }
            interior.push(cells);
        }
        for r in 1..releases.len() {
            for ((at, p), now) in index.iter().filter(|((at, _), _)| *at == r) {
                let Some(before) = index.get(&(at - 1, p.clone())) else {
                    continue;
                };
                let change = Expression::from(*now) - *before;
                // Counts grow, but for those that truly shrank (retractions), which shrink.
                constraints.push(match releases[r].truth(p) < releases[r - 1].truth(p) {
                    true => change.leq(0),
                    false => change.geq(0),
                });
            }
        }
        Programme {
            vars,
            index,
            constraints,
            interior,
        }
    }

    /// A count of release `r` as an expression (0 where the release holds no such count).
    pub fn count(&self, r: usize, p: &Place) -> Expression {
        self.index
            .get(&(r, p.clone()))
            .map_or(Expression::from(0), |v| Expression::from(*v))
    }

    /// The places with a variable in release `r`.
    pub fn places(&self, r: usize) -> impl Iterator<Item = &Place> {
        self.index.keys().filter(move |(at, _)| *at == r).map(|(_, p)| p)
    }

    /// The lowest and highest value of `objective` over everything the attacker knows.
    pub fn range(&self, objective: &Expression) -> Bounds {
        let solve = |maximise: bool| {
            let vars = self.vars.clone();
            let problem = if maximise {
                vars.maximise(objective.clone())
            } else {
                vars.minimise(objective.clone())
            };
            let mut model = problem.using(microlp);
            for constraint in &self.constraints {
                model = model.with(constraint.clone());
            }
            let solution = model
                .solve()
                .expect("the truth satisfies every constraint, so the programme is feasible");
            solution.eval(objective.clone()).round() as i64
        };
        (solve(false), solve(true))
    }
}
