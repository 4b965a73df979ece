//! Entity reads: filters become SQL over the search rows, identically on both
//! databases; keyset paging on (sort value, entity id).

use greenroom_model::filter::{EntityFilter, SortOrder};

use crate::sql::{Arg, Tx};
use crate::{EntityPage, EntityQuery, FacetCount, Page, Result, StoreError};

/// Renders an [`EntityFilter`] into a boolean SQL expression over `fe.id` (the
/// integer row key search rows refer to), collecting bind arguments numbered
/// from `next`.
///
/// Two shapes, same meaning: `fe.id IN (SELECT ...)` builds the matching
/// set once, which suits counts and facets that visit every entity; a
/// correlated `EXISTS` probes one entity at a time, which suits a page read
/// in index order that stops after `limit` rows.
pub(crate) struct FilterSql {
    next: usize,
    pub args: Vec<Arg>,
    /// The row key column an `EXISTS` probe correlates with (the driving
    /// index's, so the probe runs before the entity row is fetched); `None`
    /// renders `IN` sets.
    correlated: Option<&'static str>,
}

impl FilterSql {
    pub fn new(first_placeholder: usize) -> Self {
        Self {
            next: first_placeholder,
            args: Vec::new(),
            correlated: None,
        }
    }

    /// `entity has a search row matching cond` in this renderer's shape.
    fn matching(&self, cond: &str) -> String {
        match self.correlated {
            Some(id) => {
                format!("EXISTS (SELECT 1 FROM search x WHERE x.entity_key = {id} AND {cond})")
            }
            None => format!("fe.id IN (SELECT entity_key FROM search x WHERE {cond})"),
        }
    }

    fn bind(&mut self, a: Arg) -> String {
        self.args.push(a);
        let p = format!("${}", self.next);
        self.next += 1;
        p
    }

    pub fn render(&mut self, f: &EntityFilter) -> String {
        match f {
            EntityFilter::All(items) if items.is_empty() => "1 = 1".into(),
            EntityFilter::Any(items) if items.is_empty() => "1 = 0".into(),
            EntityFilter::All(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.render(i)).collect();
                format!("({})", parts.join(" AND "))
            }
            EntityFilter::Any(items) => {
                let parts: Vec<String> = items.iter().map(|i| self.render(i)).collect();
                format!("({})", parts.join(" OR "))
            }
            EntityFilter::Not(inner) => format!("NOT ({})", self.render(inner)),
            EntityFilter::Key { key, values } => {
                let k = self.bind(Arg::from(key.to_lowercase()));
                match values {
                    None => self.matching(&format!("x.key = {k}")),
                    Some(vals) if vals.is_empty() => "1 = 0".into(),
                    Some(vals) => {
                        let ps: Vec<String> = vals
                            .iter()
                            .map(|v| self.bind(Arg::from(v.to_lowercase())))
                            .collect();
                        self.matching(&format!("x.key = {k} AND x.value IN ({})", ps.join(", ")))
                    }
                }
            }
            EntityFilter::HasPrefix { key, prefix } => {
                let k = self.bind(Arg::from(key.to_lowercase()));
                let p = self.bind(Arg::from(format!(
                    "{}%",
                    escape_like(&prefix.to_lowercase())
                )));
                self.matching(&format!("x.key = {k} AND x.value LIKE {p} ESCAPE '\\'"))
            }
        }
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub(crate) async fn change_sequence(c: &mut Box<dyn Tx>) -> Result<i64> {
    let rows = c
        .rows("SELECT value FROM catalog_sequence WHERE id = 1", vec![])
        .await?;
    Ok(rows.first().map(|r| r.int(0)).unwrap_or(0))
}

/// Counts of earlier queries, valid for one change sequence.
pub(crate) type CountCache = std::sync::Mutex<std::collections::HashMap<String, (i64, u64)>>;

/// Picks the condition that drives the scan when there is no sort field: a
/// single-valued key condition at the top of the filter, so that
/// `kind=component&limit=50` reads 51 index rows instead of every component.
fn driving_condition(
    filter: Option<&EntityFilter>,
) -> Option<(String, String, Option<EntityFilter>)> {
    let single = |f: &EntityFilter| match f {
        EntityFilter::Key {
            key,
            values: Some(v),
        } if v.len() == 1 => Some((key.to_lowercase(), v[0].to_lowercase())),
        _ => None,
    };
    match filter? {
        f @ EntityFilter::Key { .. } => single(f).map(|(k, v)| (k, v, None)),
        EntityFilter::All(items) => {
            let i = items.iter().position(|f| single(f).is_some())?;
            let (k, v) = single(&items[i])?;
            let rest: Vec<EntityFilter> = items
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, f)| f.clone())
                .collect();
            Some((k, v, Some(EntityFilter::All(rest))))
        }
        _ => None,
    }
}

/// How a page query reads: the FROM clause, the ordering columns and the
/// remaining conditions, with their bind arguments.
struct Plan {
    f: FilterSql,
    from: String,
    /// The column pair the page is ordered and keyed by: (sort value, row key).
    sort_col: Option<&'static str>,
    id_col: &'static str,
    extra_order: Vec<String>,
    where_base: String,
}

/// A driving key/value with fewer entities than this is read in full and
/// sorted; a larger one is cheaper to find while scanning the sort index.
pub(crate) const SELECTIVE_ROWS: i64 = 2000;

async fn is_selective(c: &mut Box<dyn Tx>, key: &str, value: &str, limit: i64) -> Result<bool> {
    let rows = c
        .rows(
            "SELECT COUNT(*) FROM (SELECT 1 FROM search WHERE key = $1 AND value = $2 LIMIT $3) t",
            vec![Arg::from(key), Arg::from(value), Arg::Int(limit)],
        )
        .await?;
    Ok(rows.first().map(|r| r.int(0)).unwrap_or(0) < limit)
}

fn plan(
    q: &EntityQuery,
    dialect: crate::sql::Dialect,
    correlated: bool,
    drive_first: bool,
) -> Plan {
    let order = q.order.first();
    let mut f = FilterSql::new(1);
    let mut conds: Vec<String> = Vec::new();
    // SQLite's planner would rather materialize a large IN-list and sort it;
    // scanning the sort (or driving) index in order and stopping at LIMIT is
    // what keeps pages fast at 100k entities, so the join order is forced there.
    let join = match dialect {
        crate::sql::Dialect::Sqlite => "CROSS JOIN",
        crate::sql::Dialect::Postgres => "JOIN",
    };
    let mut remaining_filter = q.filter.clone();
    let driver = driving_condition(q.filter.as_ref());
    let (from, sort_col, id_col, extra_order) = match (order, driver) {
        (Some(_), _) if q.all_order_fields => {
            let mut from = "final_entities fe".to_string();
            let mut extra = Vec::new();
            for (i, o) in q.order.iter().enumerate() {
                let k = f.bind(Arg::from(o.field.to_lowercase()));
                from.push_str(&format!(
                    " LEFT JOIN search o{i} ON o{i}.entity_key = fe.id AND o{i}.key = {k}"
                ));
                let dir = if o.order == SortOrder::Asc {
                    "ASC"
                } else {
                    "DESC"
                };
                // Entities lacking the field sort last in either direction.
                extra.push(format!("(o{i}.value IS NULL) ASC, o{i}.value {dir}"));
            }
            (from, None, "fe.id", extra)
        }
        // A selective filter (one owner's entities): read its few rows and sort them.
        (Some(o), Some((key, value, rest))) if drive_first => {
            let dk = f.bind(Arg::from(key));
            let dv = f.bind(Arg::from(value));
            let k = f.bind(Arg::from(o.field.to_lowercase()));
            remaining_filter = rest;
            (
                format!(
                    "search d {join} final_entities fe ON fe.id = d.entity_key \
                     {join} search s ON s.entity_key = d.entity_key AND s.key = {k} \
                     WHERE d.key = {dk} AND d.value = {dv} AND s.value IS NOT NULL"
                ),
                Some("s.value"),
                "s.entity_key",
                Vec::new(),
            )
        }
        (Some(o), _) => {
            let k = f.bind(Arg::from(o.field.to_lowercase()));
            // Entities lacking the sort field are excluded (Backstage behaviour).
            (
                format!("search s {join} final_entities fe ON fe.id = s.entity_key WHERE s.key = {k} AND s.value IS NOT NULL"),
                Some("s.value"),
                "s.entity_key",
                Vec::new(),
            )
        }
        (None, Some((key, value, rest))) => {
            let k = f.bind(Arg::from(key));
            let v = f.bind(Arg::from(value));
            remaining_filter = rest;
            (
                format!("search d {join} final_entities fe ON fe.id = d.entity_key WHERE d.key = {k} AND d.value = {v}"),
                None,
                "d.entity_key",
                Vec::new(),
            )
        }
        (None, None) => (
            "final_entities fe WHERE 1 = 1".to_string(),
            None,
            "fe.id",
            Vec::new(),
        ),
    };
    let from = if from.contains(" WHERE ") {
        from
    } else {
        format!("{from} WHERE 1 = 1")
    };
    if correlated {
        f.correlated = Some(id_col);
    }
    if let Some(filter) = &remaining_filter {
        conds.push(f.render(filter));
    }
    if let Some(ft) = &q.full_text {
        let fields: Vec<String> = if !ft.fields.is_empty() {
            ft.fields.iter().map(|s| s.to_lowercase()).collect()
        } else if let Some(o) = order {
            vec![o.field.to_lowercase()]
        } else {
            vec!["metadata.uid".to_string()]
        };
        let ks: Vec<String> = fields.into_iter().map(|k| f.bind(Arg::from(k))).collect();
        let term = f.bind(Arg::from(format!(
            "%{}%",
            escape_like(&ft.term.to_lowercase())
        )));
        conds.push(f.matching(&format!(
            "x.key IN ({}) AND x.value LIKE {term} ESCAPE '\\'",
            ks.join(", ")
        )));
    }
    let where_base = conds
        .iter()
        .map(|c| format!(" AND {c}"))
        .collect::<String>();
    Plan {
        f,
        from,
        sort_col,
        id_col,
        extra_order,
        where_base,
    }
}

pub(crate) async fn query_entities(
    c: &mut Box<dyn Tx>,
    q: &EntityQuery,
    counts: &CountCache,
    selective_rows: i64,
) -> Result<EntityPage> {
    let order = q.order.first();
    let drive_first = match (order, driving_condition(q.filter.as_ref())) {
        (Some(_), Some((key, value, _))) if !q.all_order_fields => {
            is_selective(c, &key, &value, selective_rows).await?
        }
        _ => false,
    };

    let total_items = if q.count_total {
        let sql_and_args = match driving_condition(q.filter.as_ref()) {
            // One key=value and nothing else (`kind=component`, polled by
            // dashboards while a catalog loads): a range count of the search
            // index. Search rows exist only for stitched entities (they are
            // written and deleted with them), so no join is needed.
            Some((key, value, None)) if q.full_text.is_none() => (
                "SELECT COUNT(*) FROM search d WHERE d.key = $1 AND d.value = $2".to_string(),
                vec![Arg::from(key), Arg::from(value)],
            ),
            _ => {
                let Plan {
                    f,
                    from,
                    where_base,
                    ..
                } = plan(q, c.dialect(), false, drive_first);
                (format!("SELECT COUNT(*) FROM {from}{where_base}"), f.args)
            }
        };
        let (sql, args) = sql_and_args;
        let cache_key = format!("{sql}\u{0}{args:?}");
        let seq = change_sequence(c).await?;
        let cached = counts
            .lock()
            .expect("count cache")
            .get(&cache_key)
            .filter(|(s, _)| *s == seq)
            .map(|(_, n)| *n);
        let n = match cached {
            Some(n) => n,
            None => {
                let rows = c.rows(&sql, args).await?;
                let n = rows.first().map(|r| r.int(0)).unwrap_or(0) as u64;
                let mut cache = counts.lock().expect("count cache");
                if cache.len() > 1024 {
                    cache.clear();
                }
                cache.insert(cache_key, (seq, n));
                n
            }
        };
        Some(n)
    } else {
        None
    };

    let Plan {
        f,
        from,
        sort_col,
        id_col,
        extra_order,
        where_base,
    } = plan(q, c.dialect(), true, drive_first);
    let asc = order.map(|o| o.order == SortOrder::Asc).unwrap_or(true);
    // Cursor and limit placeholders continue after the plan's.
    let mut page_f = f;
    let mut where_page = where_base;
    let (limit, offset, backwards) = match &q.page {
        Page::All => (None, 0, false),
        Page::Offset { offset, limit } => (Some(*limit), *offset, false),
        Page::After {
            sort_value,
            row_key,
            limit,
            backwards,
        } => {
            // Forward in the query's direction, or backward for a previous page.
            let forward_gt = asc != *backwards;
            let cmp = if forward_gt { ">" } else { "<" };
            // The row key a previous page ended on; cursors are opaque to
            // clients, so anything else in that place is a damaged cursor.
            let key: i64 = row_key
                .parse()
                .map_err(|_| StoreError::Input("Malformed cursor".into()))?;
            let id = page_f.bind(Arg::Int(key));
            let cond = match (sort_col, sort_value) {
                (Some(col), Some(v)) => {
                    // A row-value comparison lets both databases seek the index.
                    let v1 = page_f.bind(Arg::from(v.clone()));
                    format!("({col}, {id_col}) {cmp} ({v1}, {id})")
                }
                _ => format!("{id_col} {cmp} {id}"),
            };
            where_page = format!("{where_page} AND {cond}");
            (Some(*limit), 0, *backwards)
        }
    };
    let dir = if asc != backwards { "ASC" } else { "DESC" };
    let order_sql = if !extra_order.is_empty() {
        format!("ORDER BY {}, fe.id ASC", extra_order.join(", "))
    } else if let Some(col) = sort_col {
        format!("ORDER BY {col} {dir}, {id_col} {dir}")
    } else {
        format!("ORDER BY {id_col} {dir}")
    };
    let sort_expr = sort_col.unwrap_or("NULL");
    let mut sql =
        format!("SELECT fe.final_entity, {sort_expr}, fe.id FROM {from}{where_page} {order_sql}");
    if let Some(l) = limit {
        let lp = page_f.bind(Arg::Int(l as i64 + 1));
        let op = page_f.bind(Arg::Int(offset as i64));
        sql.push_str(&format!(" LIMIT {lp} OFFSET {op}"));
    }
    let rows = c.rows(&sql, page_f.args).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    let mut has_more = false;
    for (i, row) in rows.iter().enumerate() {
        if limit.is_some_and(|l| i as u64 >= l) {
            has_more = true;
            break;
        }
        items.push(
            serde_json::from_str(row.text(0).unwrap_or("{}"))
                .map_err(|e| StoreError::Decode(e.to_string()))?,
        );
        keys.push((row.opt_string(1), row.int(2).to_string()));
    }
    if backwards {
        items.reverse();
        keys.reverse();
    }
    Ok(EntityPage {
        items,
        keys,
        total_items,
        has_more,
    })
}

pub(crate) async fn facets(
    c: &mut Box<dyn Tx>,
    facets: &[String],
    filter: Option<&EntityFilter>,
) -> Result<Vec<(String, Vec<FacetCount>)>> {
    let mut out = Vec::with_capacity(facets.len());
    for facet in facets {
        let mut f = FilterSql::new(2);
        let cond = match filter {
            Some(filter) => format!(" AND {}", f.render(filter)),
            None => String::new(),
        };
        let mut args = vec![Arg::from(facet.to_lowercase())];
        args.extend(f.args);
        let sql = format!(
            "SELECT COALESCE(s.original_value, s.value) AS v, COUNT(DISTINCT s.entity_key) FROM search s \
             JOIN final_entities fe ON fe.id = s.entity_key \
             WHERE s.key = $1 AND s.value IS NOT NULL{cond} GROUP BY v"
        );
        let mut counts: Vec<FacetCount> = c
            .rows(&sql, args)
            .await?
            .iter()
            .map(|r| FacetCount {
                value: r.string(0),
                count: r.int(1),
            })
            .collect();
        counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        out.push((facet.clone(), counts));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_filters_with_numbered_placeholders() {
        let f = EntityFilter::Any(vec![
            EntityFilter::All(vec![
                EntityFilter::Key {
                    key: "kind".into(),
                    values: Some(vec!["component".into()]),
                },
                EntityFilter::Key {
                    key: "spec.type".into(),
                    values: None,
                },
            ]),
            EntityFilter::Not(Box::new(EntityFilter::HasPrefix {
                key: "metadata.name".into(),
                prefix: "a_".into(),
            })),
        ]);
        let mut r = FilterSql::new(3);
        let sql = r.render(&f);
        assert!(sql.contains("x.key = $3 AND x.value IN ($4)"), "{sql}");
        assert!(sql.contains("x.key = $5)"), "{sql}");
        assert!(sql.contains("NOT (fe.id IN (SELECT entity_key FROM search x WHERE x.key = $6 AND x.value LIKE $7"), "{sql}");
        let mut r = FilterSql::new(1);
        r.correlated = Some("fe.id");
        let sql = r.render(&f);
        assert!(sql.contains("EXISTS (SELECT 1 FROM search x WHERE x.entity_key = fe.id AND x.key = $1 AND x.value IN ($2))"), "{sql}");
        assert_eq!(r.args.last(), Some(&Arg::from("a\\_%")));
        assert_eq!(crate::sql::placeholders(2, 3), "$2, $3, $4");
    }
}
