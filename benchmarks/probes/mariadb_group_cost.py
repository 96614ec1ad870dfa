"""What one group of four benchmark snippets costs MariaDB, sent six ways, interleaved.

    pip install pymysql && python3 benchmarks/probes/mariadb_group_cost.py 100

The group is the benchmark's: CREATE TABLE, ALTER TABLE ... ADD COLUMN, CREATE INDEX and
a seed INSERT. The ways:

- raw: each statement in BEGIN/COMMIT, one round trip each (the `mariadb` client's replay);
- rawmsg: the same statements in one multi-statement message;
- msg: the message bootschema sent for the group until its fourth session (as MariaDB's
  general log showed it): `SET @bootschema_t<j> = NOW(6)` before each snippet, the seed in a transaction with the
  upsert of the four ledger rows (hex literals, durations computed from the noted
  times), and the read-back of the four durations;
- msgnoledger: msg without the ledger rows;
- msgnotimers: msg without the clock (no SETs, no read-back, literal durations);
- msgstart: the message bootschema sends since its fourth session: msgnotimers with one
  clock, `SET @bootschema_started = NOW(3)` before the seed, whose own row's duration
  the server computes (the other three rows carry literal, client-measured durations:
  in bootschema they are the previous group's, queued).

Each way works in a database of its own (created here, dropped at the end), on one
connection; the order rotates group by group. Prints the median and mean per way.
"""
import statistics
import sys
import time

import pymysql
from pymysql.constants import CLIENT

WAYS = ["raw", "rawmsg", "msg", "msgnoledger", "msgnotimers", "msgstart"]
LEDGER = """CREATE TABLE IF NOT EXISTS bootschema_history (
    version BIGINT NOT NULL PRIMARY KEY, description TEXT NOT NULL, path TEXT NOT NULL,
    checksum VARCHAR(80) NOT NULL, state VARCHAR(16) NOT NULL, progress TEXT NOT NULL,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4"""
ON_DUPLICATE = (
    "ON DUPLICATE KEY UPDATE description = VALUES(description), path = VALUES(path), "
    "checksum = VALUES(checksum), state = VALUES(state), progress = VALUES(progress), "
    "duration_ms = VALUES(duration_ms), applied_at = VALUES(applied_at)"
)


def statements(k):
    return [
        f"CREATE TABLE t{k} (\n    id INTEGER NOT NULL PRIMARY KEY,\n    name VARCHAR(100) NOT NULL\n)",
        f"ALTER TABLE t{k} ADD COLUMN c{k} INTEGER",
        f"CREATE INDEX t{k}_c_idx ON t{k} (c{k})",
        f"INSERT INTO t{k} (id, name, c{k}) VALUES (1, 'seed', {k})",
    ]


def text(s):
    return f"CONVERT(X'{s.encode().hex().upper()}' USING utf8mb4)"


def elapsed_ms(j):
    return f"TIMESTAMPDIFF(MICROSECOND, @bootschema_t{j}, @bootschema_t{j + 1}) DIV 1000"


def upsert(k, timers, start=False):
    rows = []
    for i in range(4):
        v = 4 * k + i + 1
        if start and i == 3:
            ms = "TIMESTAMPDIFF(MICROSECOND, @bootschema_started, NOW(3)) DIV 1000"
        elif not timers:
            ms = "1"
        elif i < 3:
            ms = elapsed_ms(i)
        else:
            ms = "TIMESTAMPDIFF(MICROSECOND, @bootschema_started, NOW(3)) DIV 1000"
        checksum = "sha256:" + "ab" * 32
        values = ", ".join([str(v), text(f"snippet_{v}"), text(f"sql/{v:05}_snippet_{v}.sql"), text(checksum)])
        rows.append(f"({values}, 'applied', '', COALESCE({ms}, 0), CURRENT_TIMESTAMP(3))")
    columns = "version, description, path, checksum, state, progress, duration_ms, applied_at"
    return f"INSERT INTO `bootschema_history` ({columns}) VALUES {', '.join(rows)} {ON_DUPLICATE}"


def message(k, ledger=True, timers=True, start=False):
    s = statements(k)
    parts = []
    for i in range(3):
        parts += ([f"SET @bootschema_t{i} = NOW(6)"] if timers else []) + [s[i]]
    if timers:
        parts += ["SET @bootschema_t3 = NOW(6)", "SET @bootschema_started = NOW(3)"]
    elif start:
        parts += ["SET @bootschema_started = NOW(3)"]
    parts += ["BEGIN", s[3]] + ([upsert(k, timers, start)] if ledger else []) + ["COMMIT"]
    if timers:
        read_back = " UNION ALL ".join(
            f"SELECT CAST(TIMESTAMPDIFF(MICROSECOND, @bootschema_t{j}, @bootschema_t{j + 1}) AS SIGNED)"
            for j in range(4)
        )
        parts += ["SET @bootschema_t4 = NOW(6)", read_back]
    return "\n;\n".join(parts)


def send(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    while cur.nextset():
        pass


def raw(conn, k):
    cur = conn.cursor()
    for s in statements(k):
        cur.execute("BEGIN")
        cur.execute(s)
        cur.execute("COMMIT")


def main(groups):
    admin = pymysql.connect(host="127.0.0.1", user="root", autocommit=True)
    conns = {}
    for way in WAYS:
        db = f"grp_{way}"
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {db}")
        admin.cursor().execute(f"CREATE DATABASE {db}")
        conns[way] = pymysql.connect(
            host="127.0.0.1", user="root", database=db, client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True
        )
    for way in ["msg", "msgnotimers", "msgstart"]:
        conns[way].cursor().execute(LEDGER)
    run = {
        "raw": lambda k: raw(conns["raw"], k),
        "rawmsg": lambda k: send(conns["rawmsg"], ";\n".join(x for s in statements(k) for x in ["BEGIN", s, "COMMIT"])),
        "msg": lambda k: send(conns["msg"], message(k)),
        "msgnoledger": lambda k: send(conns["msgnoledger"], message(k, ledger=False)),
        "msgnotimers": lambda k: send(conns["msgnotimers"], message(k, timers=False)),
        "msgstart": lambda k: send(conns["msgstart"], message(k, timers=False, start=True)),
    }
    times = {way: [] for way in WAYS}
    for k in range(groups):
        for way in WAYS[k % len(WAYS):] + WAYS[: k % len(WAYS)]:
            started = time.perf_counter()
            run[way](k)
            times[way].append((time.perf_counter() - started) * 1000)
    for way in WAYS:
        print(f"{way:12} median {statistics.median(times[way]):.2f} ms  mean {statistics.mean(times[way]):.2f}")
    for way in WAYS:
        conns[way].close()
        admin.cursor().execute(f"DROP DATABASE grp_{way}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
