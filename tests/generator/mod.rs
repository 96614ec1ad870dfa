//! A generator of random but valid schema histories, for the differential tests
//! (`tests/differential.rs`) and the benchmark (`benchmarks/`): it keeps a model of the
//! schema built so far, so that every statement it writes is one the database accepts.
//!
//! The histories create, rename and drop tables, columns, indexes, views and (on
//! PostgreSQL) materialized views with and without `CASCADE`, change column types,
//! rename types, use over-long index names, seed and backfill rows, and re-create what
//! was dropped (the name pools are small on purpose).
//!
//! [`history_with_objects`] adds, from a random stream of its own (so that
//! [`history`], which the benchmark times, stays the same for a seed), triggers (every
//! database), functions with overloads, `CREATE OR REPLACE`, renames and drops
//! (PostgreSQL, MySQL), and sequences, some owned by a table's column (PostgreSQL).

use bootschema::DialectKind;

/// A small, reproducible pseudo-random generator (xorshift64*): no dependency, and the
/// same seed gives the same history on every machine.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        (!items.is_empty()).then(|| &items[self.below(items.len())])
    }
}

#[derive(Clone, Debug)]
struct Table {
    name: String,
    columns: Vec<String>,
    /// `(index, columns)`.
    indexes: Vec<(String, Vec<String>)>,
}

#[derive(Clone, Debug)]
struct View {
    name: String,
    /// The table or view it reads.
    on: String,
    materialized: bool,
}

/// The schema a history has built so far, so that every generated statement is valid.
struct Model {
    dialect: DialectKind,
    tables: Vec<Table>,
    views: Vec<View>,
    types: Vec<String>,
    next_id: u32,
    next_index: u32,
    /// `(trigger, table)`: a trigger goes with its table's drop and moves with its rename.
    triggers: Vec<(String, String)>,
    /// `(function, argument type)`: PostgreSQL overloads one name (`int` and `text`);
    /// MySQL has one argument type.
    functions: Vec<(String, &'static str)>,
    /// `(sequence, owning table)`: an owned sequence goes with its table.
    sequences: Vec<(String, Option<String>)>,
    /// Whether PostgreSQL's trigger function exists.
    trigger_function: bool,
    next_object: u32,
}

/// Small name pools, so that names come back after a drop or a rename.
const TABLES: [&str; 4] = ["ta", "tb", "tc", "td"];
const COLUMNS: [&str; 4] = ["x", "y", "z", "w"];
const VIEWS: [&str; 3] = ["va", "vb", "vc"];
const TYPES: [&str; 2] = ["mood", "feeling"];

impl Model {
    fn table(&mut self, name: &str) -> &mut Table {
        self.tables.iter_mut().find(|t| t.name == name).unwrap()
    }

    fn free<'a>(&self, pool: &[&'a str]) -> Vec<&'a str> {
        pool.iter()
            .copied()
            .filter(|n| !self.tables.iter().any(|t| t.name == *n) && !self.views.iter().any(|v| v.name == *n))
            .collect()
    }

    /// The views (and their dependents, outermost first) that read `name`.
    fn dependents(&self, name: &str) -> Vec<View> {
        let mut found = Vec::new();
        for view in self.views.iter().filter(|v| v.on == name) {
            found.extend(self.dependents(&view.name));
            found.push(view.clone());
        }
        found
    }

    fn drop_view_sql(&self, view: &View) -> String {
        if view.materialized {
            format!("DROP MATERIALIZED VIEW {};", view.name)
        } else {
            format!("DROP VIEW {};", view.name)
        }
    }

    fn forget_views(&mut self, gone: &[View]) {
        self.views.retain(|v| !gone.iter().any(|g| g.name == v.name));
    }

    fn index_name(&mut self, rng: &mut Rng) -> String {
        self.next_index += 1;
        // Over 63 bytes PostgreSQL truncates the name; MySQL refuses over 64.
        if self.dialect != DialectKind::MySql && rng.chance(15) {
            format!("ix{}_{}", self.next_index, "long".repeat(18))
        } else {
            format!("ix{}", self.next_index)
        }
    }

    /// One operation's statements, applied to the model; `None` when it does not fit
    /// the current state.
    fn operation(&mut self, rng: &mut Rng) -> Option<Vec<String>> {
        let pg = self.dialect == DialectKind::Postgres;
        let my = self.dialect == DialectKind::MySql;
        let sqlite = self.dialect == DialectKind::Sqlite;
        match rng.below(17) {
            0 | 1 => {
                let name = *rng.pick(&self.free(&TABLES))?;
                let extra = COLUMNS[rng.below(2)];
                self.tables.push(Table {
                    name: name.into(),
                    columns: vec!["id".into(), extra.into()],
                    indexes: Vec::new(),
                });
                let maybe = if rng.chance(25) { "IF NOT EXISTS " } else { "" };
                Some(vec![format!("CREATE TABLE {maybe}{name} (id INTEGER NOT NULL PRIMARY KEY, {extra} INTEGER);")])
            }
            2 => {
                let t = rng.pick(&self.tables)?.clone();
                let column =
                    *rng.pick(&COLUMNS.iter().filter(|c| !t.columns.iter().any(|x| x == *c)).collect::<Vec<_>>())?;
                self.table(&t.name).columns.push(column.to_string());
                let default = if rng.chance(30) { " NOT NULL DEFAULT 0" } else { "" };
                Some(vec![format!("ALTER TABLE {} ADD COLUMN {column} INTEGER{default};", t.name)])
            }
            3 => {
                // Drop a column. SQLite refuses to drop an indexed column: its indexes go first.
                let t = rng.pick(&self.tables)?.clone();
                let column = rng.pick(&t.columns.iter().filter(|c| *c != "id").cloned().collect::<Vec<_>>())?.clone();
                let mut sql = Vec::new();
                let mut views = Vec::new();
                if !pg {
                    // MySQL and SQLite keep views that would break; drop them first.
                    views = self.dependents(&t.name);
                    sql.extend(views.iter().map(|v| self.drop_view_sql(v)));
                }
                let covering: Vec<String> =
                    t.indexes.iter().filter(|(_, cols)| cols.contains(&column)).map(|(i, _)| i.clone()).collect();
                if sqlite {
                    sql.extend(covering.iter().map(|i| format!("DROP INDEX {i};")));
                }
                sql.push(format!("ALTER TABLE {} DROP COLUMN {column};", t.name));
                self.forget_views(&views);
                let table = self.table(&t.name);
                table.columns.retain(|c| *c != column);
                // PostgreSQL drops every index on the column; MySQL takes the column out
                // of its indexes and drops those left without one.
                if my {
                    for (_, cols) in table.indexes.iter_mut() {
                        cols.retain(|c| *c != column);
                    }
                    table.indexes.retain(|(_, cols)| !cols.is_empty());
                } else {
                    table.indexes.retain(|(i, _)| !covering.contains(i));
                }
                Some(sql)
            }
            4 => {
                let t = rng.pick(&self.tables)?.clone();
                let from = rng.pick(&t.columns.iter().filter(|c| *c != "id").cloned().collect::<Vec<_>>())?.clone();
                let to =
                    *rng.pick(&COLUMNS.iter().filter(|c| !t.columns.iter().any(|x| x == *c)).collect::<Vec<_>>())?;
                let mut sql = Vec::new();
                if !pg {
                    let views = self.dependents(&t.name);
                    sql.extend(views.iter().map(|v| self.drop_view_sql(v)));
                    self.forget_views(&views);
                }
                sql.push(format!("ALTER TABLE {} RENAME COLUMN {from} TO {to};", t.name));
                let table = self.table(&t.name);
                for c in table.columns.iter_mut().chain(table.indexes.iter_mut().flat_map(|(_, cols)| cols.iter_mut()))
                {
                    if *c == from {
                        *c = to.to_string();
                    }
                }
                Some(sql)
            }
            5 => {
                let t = rng.pick(&self.tables)?.clone();
                let to = *rng.pick(&self.free(&TABLES))?;
                let mut sql = Vec::new();
                if !pg {
                    let views = self.dependents(&t.name);
                    sql.extend(views.iter().map(|v| self.drop_view_sql(v)));
                    self.forget_views(&views);
                }
                sql.push(if my && rng.chance(50) {
                    format!("RENAME TABLE {} TO {to};", t.name)
                } else {
                    format!("ALTER TABLE {} RENAME TO {to};", t.name)
                });
                for v in self.views.iter_mut().filter(|v| v.on == t.name) {
                    v.on = to.into();
                }
                for (_, table) in self.triggers.iter_mut().filter(|(_, table)| *table == t.name) {
                    *table = to.into();
                }
                for (_, owner) in self.sequences.iter_mut().filter(|(_, o)| o.as_deref() == Some(t.name.as_str())) {
                    *owner = Some(to.into());
                }
                self.table(&t.name).name = to.into();
                Some(sql)
            }
            6 => {
                let t = rng.pick(&self.tables)?.clone();
                let views = self.dependents(&t.name);
                let mut sql = Vec::new();
                if pg && !views.is_empty() && rng.chance(60) {
                    sql.push(format!("DROP TABLE {} CASCADE;", t.name));
                } else {
                    sql.extend(views.iter().map(|v| self.drop_view_sql(v)));
                    sql.push(format!("DROP TABLE {};", t.name));
                }
                self.forget_views(&views);
                self.tables.retain(|x| x.name != t.name);
                // Its triggers and the sequences it owns go with it.
                self.triggers.retain(|(_, table)| *table != t.name);
                self.sequences.retain(|(_, owner)| owner.as_deref() != Some(t.name.as_str()));
                Some(sql)
            }
            7 => {
                let t = rng.pick(&self.tables)?.clone();
                let column = rng.pick(&t.columns.iter().filter(|c| *c != "id").cloned().collect::<Vec<_>>())?.clone();
                let name = self.index_name(rng);
                self.table(&t.name).indexes.push((name.clone(), vec![column.clone()]));
                Some(vec![format!("CREATE INDEX {name} ON {} ({column});", t.name)])
            }
            8 => {
                let t = rng
                    .pick(&self.tables.iter().filter(|t| !t.indexes.is_empty()).cloned().collect::<Vec<_>>())?
                    .clone();
                let (name, _) = rng.pick(&t.indexes)?.clone();
                self.table(&t.name).indexes.retain(|(i, _)| *i != name);
                Some(vec![if my { format!("DROP INDEX {name} ON {};", t.name) } else { format!("DROP INDEX {name};") }])
            }
            9 => {
                // A view on a table, or (PostgreSQL) a materialized view on a view.
                let name = *rng.pick(&self.free(&VIEWS))?;
                let on_view = pg && rng.chance(50);
                let on = if on_view {
                    rng.pick(
                        &self.views.iter().filter(|v| !v.materialized).map(|v| v.name.clone()).collect::<Vec<_>>(),
                    )?
                    .clone()
                } else {
                    rng.pick(&self.tables)?.name.clone()
                };
                self.views.push(View { name: name.into(), on: on.clone(), materialized: on_view });
                let kind = if on_view { "MATERIALIZED VIEW" } else { "VIEW" };
                Some(vec![format!("CREATE {kind} {name} AS SELECT id FROM {on};")])
            }
            10 => {
                let view = rng.pick(&self.views)?.clone();
                let dependents = self.dependents(&view.name);
                let mut sql = Vec::new();
                if pg && !dependents.is_empty() && rng.chance(70) {
                    let kind = if view.materialized { "MATERIALIZED VIEW" } else { "VIEW" };
                    sql.push(format!("DROP {kind} {} CASCADE;", view.name));
                    // Often the same snippet builds them again, as a real history does.
                    if rng.chance(60) {
                        sql.push(format!("CREATE VIEW {} AS SELECT id FROM {};", view.name, view.on));
                        sql.extend(
                            dependents
                                .iter()
                                .rev()
                                .map(|d| format!("CREATE MATERIALIZED VIEW {} AS SELECT id FROM {};", d.name, d.on)),
                        );
                        return Some(sql);
                    }
                } else {
                    sql.extend(dependents.iter().map(|v| self.drop_view_sql(v)));
                    sql.push(self.drop_view_sql(&view));
                }
                self.forget_views(&dependents);
                self.forget_views(std::slice::from_ref(&view));
                Some(sql)
            }
            11 => {
                let t = rng.pick(&self.tables)?.clone();
                self.next_id += 1;
                Some(vec![format!("INSERT INTO {} (id) VALUES ({});", t.name, self.next_id)])
            }
            12 => {
                let t = rng.pick(&self.tables)?.clone();
                let column = rng.pick(&t.columns.iter().filter(|c| *c != "id").cloned().collect::<Vec<_>>())?.clone();
                self.next_id += 1;
                Some(vec![format!("UPDATE {} SET {column} = {} WHERE {column} IS NULL;", t.name, self.next_id)])
            }
            13 if !sqlite => {
                let t = rng.pick(&self.tables)?.clone();
                let column = rng.pick(&t.columns.iter().filter(|c| *c != "id").cloned().collect::<Vec<_>>())?.clone();
                Some(vec![if pg {
                    format!("ALTER TABLE {} ALTER COLUMN {column} TYPE BIGINT;", t.name)
                } else {
                    format!("ALTER TABLE {} MODIFY COLUMN {column} BIGINT;", t.name)
                }])
            }
            14 if pg => {
                if let Some(name) = self.types.first().cloned().filter(|_| rng.chance(50)) {
                    let to =
                        *rng.pick(&TYPES.iter().filter(|t| !self.types.iter().any(|x| x == *t)).collect::<Vec<_>>())?;
                    self.types = vec![to.to_string()];
                    Some(vec![format!("ALTER TYPE {name} RENAME TO {to};")])
                } else {
                    let name =
                        *rng.pick(&TYPES.iter().filter(|t| !self.types.iter().any(|x| x == *t)).collect::<Vec<_>>())?;
                    self.types.push(name.to_string());
                    Some(vec![format!("CREATE TYPE {name} AS ENUM ('a', 'b');")])
                }
            }
            15 if !sqlite => {
                // Rename an index (SQLite has no such statement).
                let t = rng
                    .pick(&self.tables.iter().filter(|t| !t.indexes.is_empty()).cloned().collect::<Vec<_>>())?
                    .clone();
                let (from, _) = rng.pick(&t.indexes)?.clone();
                let to = self.index_name(rng);
                for (name, _) in self.table(&t.name).indexes.iter_mut().filter(|(name, _)| *name == from) {
                    *name = to.clone();
                }
                Some(vec![if my {
                    format!("ALTER TABLE {} RENAME INDEX {from} TO {to};", t.name)
                } else {
                    format!("ALTER INDEX {from} RENAME TO {to};")
                }])
            }
            16 => {
                // An index created only if missing, over two columns.
                let t = rng
                    .pick(&self.tables.iter().filter(|t| t.columns.len() >= 3).cloned().collect::<Vec<_>>())?
                    .clone();
                let (a, b) = (t.columns[1].clone(), t.columns[2].clone());
                let name = self.index_name(rng);
                self.table(&t.name).indexes.push((name.clone(), vec![a.clone(), b.clone()]));
                Some(vec![format!("CREATE INDEX IF NOT EXISTS {name} ON {} ({a}, {b});", t.name)])
            }
            _ => None,
        }
    }
}

impl Model {
    /// One operation on a trigger, function or sequence, applied to the model; `None`
    /// when it does not fit the current state.
    fn object_operation(&mut self, rng: &mut Rng) -> Option<Vec<String>> {
        let pg = self.dialect == DialectKind::Postgres;
        let sqlite = self.dialect == DialectKind::Sqlite;
        const FUNCTIONS: [&str; 2] = ["fa", "fb"];
        const SEQUENCES: [&str; 2] = ["sqa", "sqb"];
        match rng.below(8) {
            0 | 1 => {
                let table = rng.pick(&self.tables)?.name.clone();
                self.next_object += 1;
                let name = format!("tg{}", self.next_object);
                let mut sql = Vec::new();
                if pg && !self.trigger_function {
                    self.trigger_function = true;
                    sql.push(
                        "CREATE FUNCTION gen_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
                            .to_string(),
                    );
                }
                sql.push(match self.dialect {
                    DialectKind::Postgres => {
                        format!(
                            "CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION gen_trg();"
                        )
                    }
                    DialectKind::MySql => {
                        format!("CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW SET @n = 1;")
                    }
                    DialectKind::Sqlite => {
                        format!("CREATE TRIGGER {name} AFTER INSERT ON {table}\nBEGIN\n  SELECT 1;\nEND;")
                    }
                });
                self.triggers.push((name, table));
                Some(sql)
            }
            2 => {
                let (name, table) = rng.pick(&self.triggers)?.clone();
                self.triggers.retain(|(n, _)| *n != name);
                Some(vec![if pg {
                    format!("DROP TRIGGER {name} ON {table};")
                } else {
                    format!("DROP TRIGGER {name};")
                }])
            }
            3 if pg => {
                // Rename a trigger (PostgreSQL only).
                let (name, table) = rng.pick(&self.triggers)?.clone();
                self.next_object += 1;
                let to = format!("tg{}", self.next_object);
                for (n, _) in self.triggers.iter_mut().filter(|(n, _)| *n == name) {
                    *n = to.clone();
                }
                Some(vec![format!("ALTER TRIGGER {name} ON {table} RENAME TO {to};")])
            }
            4 if !sqlite => {
                // Create a function, an overload of one (PostgreSQL), or redefine one.
                let types: &[&'static str] = if pg { &["integer", "text"] } else { &["INT"] };
                let name = *rng.pick(&FUNCTIONS)?;
                let arg = *rng.pick(types)?;
                let there = self.functions.iter().any(|f| f.0 == name && f.1 == arg);
                let taken = !pg && self.functions.iter().any(|f| f.0 == name);
                if taken && !there {
                    return None;
                }
                self.next_object += 1;
                let n = self.next_object;
                let replace = if there || rng.chance(30) { "OR REPLACE " } else { "" };
                if !there {
                    self.functions.push((name.to_string(), arg));
                }
                Some(vec![if pg {
                    let body = if arg == "text" { format!("$1 || '{n}'") } else { format!("$1 + {n}") };
                    format!("CREATE {replace}FUNCTION {name}({arg}) RETURNS {arg} LANGUAGE sql AS $$ SELECT {body} $$;")
                } else if there {
                    // MySQL has no CREATE OR REPLACE FUNCTION: drop, then create.
                    format!(
                        "DROP FUNCTION {name};\nCREATE FUNCTION {name}(x INT) RETURNS INT DETERMINISTIC RETURN x + {n};"
                    )
                } else {
                    format!("CREATE FUNCTION {name}(x INT) RETURNS INT DETERMINISTIC RETURN x + {n};")
                }])
            }
            5 if !sqlite => {
                let (name, arg) = rng.pick(&self.functions)?.clone();
                self.functions.retain(|f| !(f.0 == name && f.1 == arg));
                Some(vec![if pg { format!("DROP FUNCTION {name}({arg});") } else { format!("DROP FUNCTION {name};") }])
            }
            6 if pg => {
                // Rename an overload to the other name, where that one is free.
                let (name, arg) = rng.pick(&self.functions)?.clone();
                let to = *FUNCTIONS.iter().find(|f| **f != name)?;
                if self.functions.iter().any(|f| f.0 == to && f.1 == arg) {
                    return None;
                }
                for f in self.functions.iter_mut().filter(|f| f.0 == name && f.1 == arg) {
                    f.0 = to.to_string();
                }
                Some(vec![format!("ALTER FUNCTION {name}({arg}) RENAME TO {to};")])
            }
            7 if pg => {
                // A sequence: created (perhaps owned by a table's id), renamed or dropped.
                if let Some((name, owner)) = rng.pick(&self.sequences).cloned().filter(|_| rng.chance(50)) {
                    let to = SEQUENCES.iter().find(|s| !self.sequences.iter().any(|(n, _)| n == *s));
                    match to {
                        Some(to) if rng.chance(50) => {
                            for (n, _) in self.sequences.iter_mut().filter(|(n, _)| *n == name) {
                                *n = to.to_string();
                            }
                            Some(vec![format!("ALTER SEQUENCE {name} RENAME TO {to};")])
                        }
                        _ => {
                            self.sequences.retain(|(n, _)| *n != name);
                            let _ = owner;
                            Some(vec![format!("DROP SEQUENCE {name};")])
                        }
                    }
                } else {
                    let name = *rng.pick(
                        &SEQUENCES.iter().filter(|s| !self.sequences.iter().any(|(n, _)| n == *s)).collect::<Vec<_>>(),
                    )?;
                    let owner = rng.pick(&self.tables).map(|t| t.name.clone()).filter(|_| rng.chance(50));
                    let owned = owner.as_ref().map(|t| format!(" OWNED BY {t}.id")).unwrap_or_default();
                    self.sequences.push((name.to_string(), owner));
                    Some(vec![format!("CREATE SEQUENCE {name}{owned};")])
                }
            }
            _ => None,
        }
    }
}

/// A history of 8 to 30 snippets, each of one to three operations, as `(file name,
/// text)` in order: the same seed gives the same history on every machine.
#[allow(dead_code)]
pub fn history(dialect: DialectKind, seed: u64) -> Vec<(String, String)> {
    generate(dialect, seed, false)
}

/// [`history`] with triggers, functions and sequences among its operations (see the
/// module's documentation); `history` of the same seed is left as it is.
#[allow(dead_code)]
pub fn history_with_objects(dialect: DialectKind, seed: u64) -> Vec<(String, String)> {
    generate(dialect, seed, true)
}

fn generate(dialect: DialectKind, seed: u64, objects: bool) -> Vec<(String, String)> {
    let mut rng = Rng::new(seed);
    // The objects' own stream: the tables, views and rows of a seed stay the same.
    let mut objects_rng = Rng::new(seed ^ 0x5EED_0B1E_C75A_11CE);
    let mut model = Model {
        dialect,
        tables: Vec::new(),
        views: Vec::new(),
        types: Vec::new(),
        next_id: 0,
        next_index: 0,
        triggers: Vec::new(),
        functions: Vec::new(),
        sequences: Vec::new(),
        trigger_function: false,
        next_object: 0,
    };
    let count = 8 + rng.below(23);
    let mut files = Vec::new();
    while files.len() < count {
        let mut statements = Vec::new();
        for _ in 0..1 + rng.below(3) {
            for _ in 0..20 {
                if let Some(sql) = model.operation(&mut rng) {
                    statements.extend(sql);
                    break;
                }
            }
        }
        if statements.is_empty() {
            continue;
        }
        if objects {
            for _ in 0..objects_rng.below(3) {
                for _ in 0..10 {
                    if let Some(sql) = model.object_operation(&mut objects_rng) {
                        statements.extend(sql);
                        break;
                    }
                }
            }
        }
        let version = files.len() + 1;
        // Marked destructive whatever it holds: the build's gate is not under test here.
        files.push((format!("{version:04}_step.sql"), format!("-- destructive\n{}\n", statements.join("\n"))));
    }
    files
}
