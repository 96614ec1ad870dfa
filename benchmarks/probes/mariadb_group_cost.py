"""What one group of four benchmark snippets costs MariaDB, sent four ways, interleaved.

    pip install pymysql && python3 benchmarks/probes/mariadb_group_cost.py 60

raw: each statement in BEGIN/COMMIT, one round trip each (the `mariadb` client's replay);
rawmsg: the same statements in one multi-statement message; msg: the message bootschema
sends (server-side clock after each snippet, the seed's transaction carrying the four
ledger rows); msgnoledger: the same without the ledger rows; msgnotimers: without
the server-side clock. Each variant works in a
database of its own (created here, dropped at the end); the order rotates group by group.
"""
import pymysql, time, statistics, sys
from pymysql.constants import CLIENT
def conn(db):
    return pymysql.connect(host='127.0.0.1', user='root', database=db, client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
adm = pymysql.connect(host='127.0.0.1', user='root', autocommit=True)
DBS = ['grp_raw','grp_msg','grp_msgnoledger','grp_rawmsg','grp_msgnotimers']
for d in DBS:
    adm.cursor().execute(f'DROP DATABASE IF EXISTS {d}'); adm.cursor().execute(f'CREATE DATABASE {d}')
LEDGER="""CREATE TABLE IF NOT EXISTS bootschema_history (version BIGINT NOT NULL PRIMARY KEY, description TEXT NOT NULL, path TEXT NOT NULL, checksum VARCHAR(80) NOT NULL, state VARCHAR(16) NOT NULL, progress TEXT NOT NULL, duration_ms BIGINT NOT NULL DEFAULT 0, applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4"""
cs = {d: conn(d) for d in DBS}
cs['grp_msg'].cursor().execute(LEDGER)
cs['grp_msgnotimers'].cursor().execute(LEDGER)
def stmts(k):
    return [f"CREATE TABLE t{k} (\n id INTEGER NOT NULL PRIMARY KEY,\n name VARCHAR(100) NOT NULL\n)", f"ALTER TABLE t{k} ADD COLUMN c{k} INTEGER", f"CREATE INDEX t{k}_c_idx ON t{k} (c{k})", f"INSERT INTO t{k} (id, name, c{k}) VALUES (1, 'seed', {k})"]
def run_msg(c, sql):
    cur = c.cursor(); cur.execute(sql)
    while cur.nextset(): pass
def raw(c, k):
    cur = c.cursor()
    for s in stmts(k):
        cur.execute('BEGIN'); cur.execute(s); cur.execute('COMMIT')
def rawmsg(c, k):  # same statements, BEGIN/COMMIT, one message
    run_msg(c, ';\n'.join(x for s in stmts(k) for x in ['BEGIN', s, 'COMMIT']))
def msg(c, k, ledger=True, timers=True):
    s = stmts(k)
    rows = ','.join(f"({4*k+i}, 'd{4*k+i}', 'sql/0000{4*k+i}_x.sql', 'sha256:{'a'*64}', 'applied', '', 1, CURRENT_TIMESTAMP(3))" for i in range(4))
    parts = []
    for i in range(3): parts += [f"SET @bootschema_t{i} = NOW(6)", s[i]] if timers else [s[i]]
    parts += (["SET @bootschema_t3 = NOW(6)", "SET @bootschema_started = NOW(3)"] if timers else []) + ["BEGIN", s[3]]
    if ledger: parts.append(f"INSERT INTO bootschema_history (version, description, path, checksum, state, progress, duration_ms, applied_at) VALUES {rows} ON DUPLICATE KEY UPDATE state=VALUES(state)")
    parts += ["COMMIT"] + (["SET @bootschema_t4 = NOW(6)", "SELECT CAST(TIMESTAMPDIFF(MICROSECOND, @bootschema_t0, @bootschema_t1) AS SIGNED) UNION ALL SELECT 1"] if timers else [])
    run_msg(c, ';\n'.join(parts))
T = {k: [] for k in ['raw','rawmsg','msg','msgnoledger','msgnotimers']}
order = [('raw', lambda k: raw(cs['grp_raw'], k)), ('rawmsg', lambda k: rawmsg(cs['grp_rawmsg'], k)), ('msg', lambda k: msg(cs['grp_msg'], k)), ('msgnoledger', lambda k: msg(cs['grp_msgnoledger'], k, False)), ('msgnotimers', lambda k: msg(cs['grp_msgnotimers'], k, True, False))]
N = int(sys.argv[1])
for k in range(N):
    o = order[k % len(order):] + order[:k % len(order)]
    for name, f in o:
        t = time.perf_counter(); f(k); T[name].append((time.perf_counter() - t) * 1000)
for name, v in T.items():
    print(f"{name:12} median {statistics.median(v):.2f} ms  mean {statistics.mean(v):.2f}")
for d in DBS:
    adm.cursor().execute(f'DROP DATABASE {d}')
