"""What MariaDB's catalog snapshot costs, on an empty database and after three tables.

    pip install pymysql && python3 benchmarks/probes/mariadb_snapshot_cost.py

full: the snapshot bootschema sends; noconstr: without the TABLE_CONSTRAINTS part;
*_in: each part also filtered on TABLE_NAME IN (the three tables). Median of 12, each
on a new database and a new connection.
"""
import pymysql, time, statistics
from pymysql.constants import CLIENT
adm = pymysql.connect(host='127.0.0.1', user='root', autocommit=True)
c = lambda col: f"CONVERT({col} USING utf8mb4)"
S = "(DATABASE())"
P = {
 'table': f"SELECT 'table', {c('TABLE_SCHEMA')}, {c('TABLE_NAME')}, '' FROM information_schema.TABLES WHERE TABLE_SCHEMA IN {S}",
 'column': f"SELECT 'column', {c('TABLE_SCHEMA')}, {c('TABLE_NAME')}, {c('COLUMN_NAME')} FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN {S}",
 'index': f"SELECT DISTINCT 'index', {c('TABLE_SCHEMA')}, {c('TABLE_NAME')}, {c('INDEX_NAME')} FROM information_schema.STATISTICS WHERE TABLE_SCHEMA IN {S}",
 'constraint': f"SELECT 'constraint', {c('CONSTRAINT_SCHEMA')}, {c('TABLE_NAME')}, {c('CONSTRAINT_NAME')} FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA IN {S}",
}
DBX = c("COALESCE(DATABASE(), '')")
head = f"SELECT 'path' AS kind, {DBX} AS schema_name, '' AS table_name, '' AS object_name UNION ALL SELECT 'version', {c('VERSION()')}, '', ''"
def q(parts, tables=None):
    sql = head
    for p in parts:
        s = P[p]
        if tables: s += " AND TABLE_NAME IN (" + ",".join(f"'{t}'" for t in tables) + ")"
        sql += " UNION ALL " + s
    return sql
V = {'full': q(['table','column','index','constraint']), 'noconstr': q(['table','column','index']), 'full_in': q(['table','column','index','constraint'], ['t0','t1','t2']), 'noconstr_in': q(['table','column','index'], ['t0','t1','t2'])}
T = {k: ([], []) for k in V}
for rep in range(12):
    for name, sql in V.items():
        adm.cursor().execute('DROP DATABASE IF EXISTS snapx'); adm.cursor().execute('CREATE DATABASE snapx')
        cn = pymysql.connect(host='127.0.0.1', user='root', database='snapx', autocommit=True, client_flag=CLIENT.MULTI_STATEMENTS)
        cur = cn.cursor()
        t = time.perf_counter(); cur.execute(sql); cur.fetchall(); T[name][0].append((time.perf_counter()-t)*1000)
        for k in range(3):
            cur.execute(f"CREATE TABLE t{k} (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(100) NOT NULL)"); cur.execute(f"ALTER TABLE t{k} ADD COLUMN c{k} INTEGER"); cur.execute(f"CREATE INDEX t{k}_c_idx ON t{k} (c{k})"); cur.execute(f"INSERT INTO t{k} VALUES (1,'s',1)")
        t = time.perf_counter(); cur.execute(sql); cur.fetchall(); T[name][1].append((time.perf_counter()-t)*1000)
        cn.close()
for k, (a, b) in T.items(): print(f"{k:12} empty {statistics.median(a):.2f} ms   after 3 tables {statistics.median(b):.2f} ms")
adm.cursor().execute('DROP DATABASE IF EXISTS snapx')
