// The SQL model on real statement shapes: ORM output (Rails, Django,
// Hibernate, Sequelize), pgbench's statements, and the check-then-act shapes
// of reference/races_locks.md §6 with their safe variants.
#include <catch2/catch.hpp>

#include "analyzers/sql/statement.h"
#include "tests/analyzers/sql/sql_test_util.h"

using namespace pgsift::sql;
using namespace pgsift::sql::testing;

TEST_CASE("statement kinds", "[sql]") {
  struct Row {
    const char* sql;
    Kind kind;
  };
  const Row rows[] = {
      {"SELECT 1", Kind::select},
      {"insert into t values (1)", Kind::insert},
      {"UPDATE t SET a = 1", Kind::update},
      {"DELETE FROM t", Kind::delete_},
      {"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", Kind::merge},
      {"BEGIN", Kind::begin},
      {"START TRANSACTION", Kind::begin},
      {"COMMIT", Kind::commit},
      {"END", Kind::commit},
      {"ROLLBACK", Kind::rollback},
      {"ABORT", Kind::rollback},
      {"SAVEPOINT active_record_1", Kind::savepoint},
      {"RELEASE SAVEPOINT active_record_1", Kind::release},
      {"ROLLBACK TO SAVEPOINT active_record_1", Kind::rollback_to_savepoint},
      {"PREPARE TRANSACTION 'tx1'", Kind::prepare_transaction},
      {"COMMIT PREPARED 'tx1'", Kind::commit_prepared},
      {"ROLLBACK PREPARED 'tx1'", Kind::rollback_prepared},
      {"SET statement_timeout = 0", Kind::set},
      {"RESET ALL", Kind::set},
      {"SHOW transaction_isolation", Kind::show},
      {"LOCK TABLE booking", Kind::lock},
      {"COPY t FROM STDIN", Kind::copy},
      {"DECLARE c CURSOR FOR SELECT * FROM t", Kind::declare},
      {"FETCH 10 FROM c", Kind::fetch},
      {"CLOSE c", Kind::close},
      {"DISCARD ALL", Kind::discard},
      {"CREATE TABLE x (id int)", Kind::utility},
      {"VACUUM t", Kind::utility},
      {"SELEC 1", Kind::unknown},
  };
  for (const Row& r : rows) {
    INFO(r.sql);
    CHECK(only(parse(r.sql)).kind == r.kind);
  }
  CHECK(to_string(Kind::delete_) == "delete");
  CHECK(to_string(Kind::rollback_to_savepoint) == "rollback to savepoint");
  CHECK(to_string(IsolationLevel::repeatable_read) == "repeatable read");
  CHECK(to_string(RowLock::no_key_update) == "FOR NO KEY UPDATE");
}

TEST_CASE("rails point lookup: tables, keys, limit, parameters", "[sql]") {
  Parsed p = parse(R"(SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2)");
  const Statement& st = only(p);
  CHECK(st.kind == Kind::select);
  REQUIRE(st.tables.size() == 1);
  const TableAccess& t = st.tables[0];
  CHECK(t.name == "users");
  CHECK(t.read);
  CHECK_FALSE(t.written);
  CHECK_FALSE(t.has_residual);
  REQUIRE(t.keys.size() == 1);
  CHECK(t.keys[0].column == "id");
  CHECK(t.keys[0].op == KeyPredicate::Op::eq);
  REQUIRE(t.keys[0].values.size() == 1);
  CHECK(t.keys[0].values[0].kind == Value::Kind::parameter);
  CHECK(t.keys[0].values[0].param == 1);
  CHECK(text_of(p, t.keys[0].values[0], {std::string("42"), std::string("1")}) == "42");
  CHECK(st.has_limit);
  CHECK_FALSE(st.aggregate);
  CHECK_FALSE(st.exists_check);
  CHECK(st.normalized == R"(SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2)");
}

TEST_CASE("django join with aliases, schema and literal keys", "[sql]") {
  Parsed p = parse(
      R"(SELECT "blog_entry"."id", "blog_blog"."name" FROM "blog_entry" INNER JOIN "blog_blog" ON )"
      R"(("blog_entry"."blog_id" = "blog_blog"."id") WHERE ("blog_blog"."name" = 'Beatles' AND )"
      R"("blog_entry"."pub_date" >= '2024-01-01'::date))");
  const Statement& st = only(p);
  const TableAccess& entry = table(st, "blog_entry");
  const TableAccess& blog = table(st, "blog_blog");
  REQUIRE(key(blog, "name") != nullptr);
  CHECK(text_of(p, key(blog, "name")->values[0]) == "Beatles");
  CHECK_FALSE(blog.has_residual);
  CHECK(entry.has_residual);  // the date range
  CHECK(key(entry, "pub_date") == nullptr);
  bool range_seen = false;
  for (const Comparison& c : entry.comparisons)
    if (c.column == "pub_date" && c.op == ">=") range_seen = text_of(p, c.value) == "2024-01-01";
  CHECK(range_seen);
  bool join_seen = false;
  for (const Comparison& c : entry.comparisons)
    if (c.column == "blog_id" && c.value.kind == Value::Kind::column) join_seen = c.value.column == "id";
  CHECK(join_seen);

  Parsed h = parse(
      "select user0_.id as id1_0_, user0_.email as email2_0_ from app.users user0_ "
      "left outer join app.orders orders1_ on user0_.id=orders1_.user_id where user0_.email=? ");
  // Hibernate with JDBC '?' placeholders never reaches the server log in this
  // form; with $n it does:
  Parsed h2 = parse(
      "select user0_.id as id1_0_ from app.users user0_ left outer join app.orders orders1_ on "
      "user0_.id=orders1_.user_id where user0_.email=$1 and orders1_.status in ($2, $3)");
  CHECK(only(h).kind == Kind::unknown);
  const Statement& hs = only(h2);
  const TableAccess& users = table(hs, "app.users", "user0_");
  const TableAccess& orders = table(hs, "app.orders", "orders1_");
  REQUIRE(key(users, "email") != nullptr);
  CHECK(key(users, "email")->values[0].param == 1);
  REQUIRE(key(orders, "status") != nullptr);
  CHECK(key(orders, "status")->op == KeyPredicate::Op::in);
  CHECK(key(orders, "status")->values.size() == 2);
}

TEST_CASE("sequelize IN, ANY, row comparisons and residuals", "[sql]") {
  Parsed p = parse(
      R"(SELECT "id", "title" FROM "Posts" AS "Post" WHERE "Post"."userId" IN (1, 2, 3) AND )"
      R"("Post"."tag" = ANY($1) AND "Post"."deletedAt" IS NULL;)");
  const Statement& st = only(p);
  const TableAccess& post = table(st, "Posts", "Post");
  REQUIRE(key(post, "userId") != nullptr);
  CHECK(key(post, "userId")->op == KeyPredicate::Op::in);
  REQUIRE(key(post, "userId")->values.size() == 3);
  CHECK(text_of(p, key(post, "userId")->values[2]) == "3");
  REQUIRE(key(post, "tag") != nullptr);
  CHECK(key(post, "tag")->op == KeyPredicate::Op::any);
  CHECK(key(post, "tag")->values[0].param == 1);
  CHECK(post.has_residual);  // IS NULL is not a key
  bool null_test = false;
  for (const Comparison& c : post.comparisons) null_test = null_test || (c.column == "deletedAt" && c.op == "IS NULL");
  CHECK(null_test);

  Parsed arr = parse("SELECT * FROM t WHERE id = ANY(ARRAY[10, 20])");
  const KeyPredicate* k = key(only(arr).tables[0], "id");
  REQUIRE(k != nullptr);
  CHECK(k->op == KeyPredicate::Op::any);
  REQUIRE(k->values.size() == 2);
  CHECK(text_of(arr, k->values[1]) == "20");
  CHECK_FALSE(only(arr).tables[0].has_residual);

  Parsed row = parse("SELECT * FROM memberships WHERE (user_id, group_id) = ($1, 7)");
  const TableAccess& m = only(row).tables[0];
  REQUIRE(key(m, "user_id") != nullptr);
  CHECK(key(m, "user_id")->op == KeyPredicate::Op::row);
  CHECK(key(m, "user_id")->values[0].param == 1);
  REQUIRE(key(m, "group_id") != nullptr);
  CHECK(text_of(row, key(m, "group_id")->values[0]) == "7");

  Parsed row_in = parse("SELECT * FROM m WHERE (a, b) IN ((1, 2), (3, 4))");
  const KeyPredicate* ka = key(only(row_in).tables[0], "a");
  REQUIRE(ka != nullptr);
  REQUIRE(ka->values.size() == 2);
  CHECK(text_of(row_in, ka->values[1]) == "3");

  Parsed resid = parse("SELECT * FROM t WHERE id = $1 OR id = $2");
  CHECK(only(resid).tables[0].keys.empty());
  CHECK(only(resid).tables[0].has_residual);

  Parsed neg = parse("SELECT * FROM t WHERE a = -5 AND b = - 7");
  const TableAccess& tn = only(neg).tables[0];
  CHECK(text_of(neg, key(tn, "a")->values[0]) == "-5");
  CHECK(text_of(neg, key(tn, "b")->values[0]) == "-7");
}

TEST_CASE("subqueries, CTEs and data-modifying CTEs", "[sql]") {
  Parsed p = parse(
      "WITH recent AS (SELECT id FROM orders WHERE created_at > now() - interval '1 day') "
      "SELECT c.name FROM customers c WHERE c.id IN (SELECT customer_id FROM recent) "
      "AND EXISTS (SELECT 1 FROM payments p WHERE p.customer_id = c.id AND p.state = 'ok')");
  const Statement& st = only(p);
  CHECK(has_table(st, "orders"));
  CHECK(has_table(st, "customers"));
  CHECK(has_table(st, "payments"));
  CHECK_FALSE(has_table(st, "recent"));
  for (const TableAccess& t : st.tables) {
    CHECK(t.read);
    CHECK_FALSE(t.written);
  }
  const TableAccess& pay = table(st, "payments");
  REQUIRE(key(pay, "state") != nullptr);
  CHECK(text_of(p, key(pay, "state")->values[0]) == "ok");

  Parsed w = parse(
      "WITH moved AS (DELETE FROM queue q WHERE q.id = $1 RETURNING q.*) "
      "INSERT INTO archive SELECT * FROM moved");
  const Statement& ws = only(w);
  CHECK(ws.kind == Kind::insert);
  CHECK(table(ws, "queue").written);
  CHECK(table(ws, "archive").written);
  CHECK_FALSE(has_table(ws, "moved"));
  REQUIRE(key(table(ws, "queue"), "id") != nullptr);
  CHECK_FALSE(ws.returning);  // only the CTE returns
  REQUIRE(ws.insert.has_value());
  CHECK(ws.insert->from_select);

  Parsed derived = parse("SELECT x.n FROM (SELECT count(*) AS n FROM events WHERE kind = 'a') x");
  CHECK(table(only(derived), "events").read);
  CHECK(key(table(only(derived), "events"), "kind") != nullptr);
}

TEST_CASE("locking clauses", "[sql]") {
  const Statement& a = only(parse("SELECT * FROM acct WHERE id = 1 FOR UPDATE"));
  CHECK(a.tables[0].lock == RowLock::update);
  CHECK_FALSE(a.tables[0].nowait);

  const Statement& b = only(parse(
      "SELECT * FROM jobs j JOIN queues q ON q.id = j.queue_id WHERE j.state = 'ready' "
      "LIMIT 1 FOR NO KEY UPDATE OF j SKIP LOCKED"));
  CHECK(table(b, "jobs").lock == RowLock::no_key_update);
  CHECK(table(b, "jobs").skip_locked);
  CHECK(table(b, "queues").lock == RowLock::none);

  const Statement& c = only(parse("SELECT * FROM a, b WHERE a.id = b.id FOR SHARE OF a NOWAIT FOR KEY SHARE OF b"));
  CHECK(table(c, "a").lock == RowLock::share);
  CHECK(table(c, "a").nowait);
  CHECK(table(c, "b").lock == RowLock::key_share);

  const Statement& d = only(parse("SELECT * FROM a, b WHERE a.id = b.id FOR UPDATE"));
  CHECK(table(d, "a").lock == RowLock::update);
  CHECK(table(d, "b").lock == RowLock::update);
}

TEST_CASE("races_locks §6: lost update, overdraft and their safe variants", "[sql]") {
  SECTION("lost update: absolute write") {
    Parsed p = parse("UPDATE acct SET balance = 90 WHERE id = 1");
    const Statement& st = only(p);
    REQUIRE(st.set_items.size() == 1);
    CHECK(st.set_items[0].column == "balance");
    CHECK(st.set_items[0].kind == SetItem::Kind::absolute);
    CHECK(text_of(p, st.set_items[0].value) == "90");
    CHECK(st.guards.empty());
    const TableAccess& t = table(st, "acct");
    CHECK(t.written);
    CHECK_FALSE(t.read);
    REQUIRE(key(t, "id") != nullptr);
    CHECK(text_of(p, key(t, "id")->values[0]) == "1");
  }
  SECTION("overdraft: unguarded relative write") {
    Parsed p = parse("UPDATE acct SET balance = balance - 100 WHERE id = 1");
    const Statement& st = only(p);
    REQUIRE(st.set_items.size() == 1);
    CHECK(st.set_items[0].kind == SetItem::Kind::relative);
    CHECK(st.set_items[0].op == '-');
    CHECK(text_of(p, st.set_items[0].value) == "100");
    CHECK(st.guards.empty());
  }
  SECTION("guarded decrement (safe)") {
    Parsed p = parse("UPDATE stock SET qty = qty - $1 WHERE id = $2 AND qty >= $1");
    const Statement& st = only(p);
    CHECK(st.set_items[0].kind == SetItem::Kind::relative);
    CHECK(st.set_items[0].value.param == 1);
    REQUIRE(st.guards.size() == 1);
    CHECK(st.guards[0].column == "qty");
    CHECK(st.guards[0].op == ">=");
    CHECK(st.guards[0].value.param == 1);
    CHECK(table(st, "stock").has_residual);
  }
  SECTION("optimistic locking (Rails lock_version, Hibernate version)") {
    Parsed p = parse(
        R"(UPDATE "accounts" SET "balance" = $1, "lock_version" = $2 WHERE "accounts"."id" = $3 )"
        R"(AND "accounts"."lock_version" = $4)");
    const Statement& st = only(p);
    REQUIRE(st.set_items.size() == 2);
    REQUIRE(st.guards.size() == 1);
    CHECK(st.guards[0].column == "lock_version");
    CHECK(st.guards[0].value.param == 4);
    Parsed h = parse("update acct set balance=$1, version=$2 where id=$3 and version=$4");
    REQUIRE(only(h).guards.size() == 1);
    CHECK(only(h).guards[0].column == "version");
  }
  SECTION("relative write with the delta on the left, SET (a, b) = (...), other") {
    Parsed p = parse("UPDATE t SET n = 1 + n, (a, b) = ($1, 'x'), updated_at = now(), c = NULL WHERE id = $2");
    const Statement& st = only(p);
    REQUIRE(st.set_items.size() == 5);
    CHECK(st.set_items[0].kind == SetItem::Kind::relative);
    CHECK(st.set_items[0].op == '+');
    CHECK(st.set_items[1].column == "a");
    CHECK(st.set_items[1].kind == SetItem::Kind::absolute);
    CHECK(st.set_items[1].value.param == 1);
    CHECK(st.set_items[2].column == "b");
    CHECK(text_of(p, st.set_items[2].value) == "x");
    CHECK(st.set_items[3].kind == SetItem::Kind::other);
    CHECK(st.set_items[4].kind == SetItem::Kind::absolute);
    CHECK(st.set_items[4].value.kind == Value::Kind::null);
  }
  SECTION("read before the write, FOR UPDATE (safe)") {
    const Statement& st = only(parse("SELECT balance FROM acct WHERE id = $1 FOR UPDATE"));
    CHECK(st.tables[0].lock == RowLock::update);
    CHECK(key(st.tables[0], "id") != nullptr);
  }
}

TEST_CASE("races_locks §6: coupon and double insert shapes", "[sql]") {
  SECTION("coupon: check, then consume") {
    Parsed check = parse("SELECT used FROM coupon WHERE code = 'SPRING' AND used = false");
    const TableAccess& c = only(check).tables[0];
    REQUIRE(key(c, "used") != nullptr);
    CHECK(text_of(check, key(c, "used")->values[0]) == "false");
    Parsed del = parse("DELETE FROM coupon WHERE code = 'SPRING'");
    CHECK(only(del).guards.empty());
    CHECK(table(only(del), "coupon").written);
    Parsed safe = parse("UPDATE coupon SET used = true WHERE code = $1 AND used = false RETURNING code");
    const Statement& s = only(safe);
    REQUIRE(s.guards.size() == 1);
    CHECK(s.guards[0].column == "used");
    CHECK(text_of(safe, s.guards[0].value) == "false");
    CHECK(text_of(safe, s.set_items[0].value) == "true");
    CHECK(s.returning);
    Parsed safe_delete = parse("DELETE FROM coupon WHERE code = $1 AND NOT used");
    REQUIRE(only(safe_delete).guards.size() == 1);
    CHECK(only(safe_delete).guards[0].op == "IS FALSE");
  }
  SECTION("count then insert (double insert)") {
    Parsed count = parse("SELECT count(*) FROM booking WHERE slot_id = 1");
    CHECK(only(count).aggregate);
    CHECK_FALSE(only(count).exists_check);
    CHECK(key(only(count).tables[0], "slot_id") != nullptr);
    Parsed ins = parse("INSERT INTO booking (slot_id, note) VALUES (1, 'x'), ($1, DEFAULT)");
    const Statement& st = only(ins);
    REQUIRE(st.insert.has_value());
    CHECK(st.insert->table == "booking");
    CHECK(st.insert->columns == std::vector<std::string>{"slot_id", "note"});
    REQUIRE(st.insert->rows.size() == 2);
    CHECK(text_of(ins, st.insert->rows[0][0]) == "1");
    CHECK(text_of(ins, st.insert->rows[0][1]) == "x");
    CHECK(st.insert->rows[1][0].param == 1);
    CHECK(st.insert->rows[1][1].kind == Value::Kind::other);
    CHECK_FALSE(st.insert->on_conflict);
    CHECK_FALSE(st.insert->from_select);
  }
  SECTION("ON CONFLICT (safe)") {
    const Statement& nothing = only(parse("INSERT INTO coupon (code, used) VALUES ($1, false) ON CONFLICT DO NOTHING"));
    CHECK(nothing.insert->on_conflict);
    CHECK(nothing.insert->conflict_action == InsertInfo::ConflictAction::nothing);
    CHECK(nothing.insert->conflict_target.empty());
    Parsed up = parse(
        "INSERT INTO counters (name, n) VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + "
        "EXCLUDED.n RETURNING n");
    const Statement& u = only(up);
    CHECK(u.insert->conflict_action == InsertInfo::ConflictAction::update);
    CHECK(u.insert->conflict_target == std::vector<std::string>{"name"});
    REQUIRE(u.set_items.size() == 1);
    CHECK(u.set_items[0].kind == SetItem::Kind::relative);
    CHECK(u.set_items[0].value.qualifier == "excluded");
    CHECK(u.returning);
    const Statement& con = only(parse("INSERT INTO t (a) VALUES (1) ON CONFLICT ON CONSTRAINT t_pkey DO NOTHING"));
    CHECK(con.insert->conflict_constraint == "t_pkey");
  }
  SECTION("INSERT ... SELECT ... WHERE NOT EXISTS") {
    Parsed p = parse(
        "INSERT INTO booking (slot_id) SELECT $1 WHERE NOT EXISTS (SELECT 1 FROM booking WHERE slot_id = $1)");
    const Statement& st = only(p);
    REQUIRE(st.insert.has_value());
    CHECK(st.insert->from_select);
    CHECK(st.insert->where_not_exists);
    REQUIRE(st.insert->rows.size() == 1);
    CHECK(st.insert->rows[0][0].param == 1);
    bool read_seen = false;
    for (const TableAccess& t : st.tables)
      if (t.name == "booking" && t.read) read_seen = key(t, "slot_id") != nullptr;
    CHECK(read_seen);
    CHECK(table(st, "booking").written);
  }
}

TEST_CASE("aggregates, exists checks, limits", "[sql]") {
  CHECK(only(parse("SELECT EXISTS (SELECT 1 FROM t WHERE a = 1)")).exists_check);
  const Statement& rails = only(parse(R"(SELECT 1 AS one FROM "users" WHERE "users"."email" = $1 LIMIT $2)"));
  CHECK(rails.exists_check);
  CHECK(rails.aggregate);
  const Statement& django = only(parse(R"(SELECT 1 AS "a" FROM "auth_user" WHERE "auth_user"."id" = 5 LIMIT 1)"));
  CHECK(django.exists_check);
  CHECK(only(parse("SELECT sum(amount) FROM payments WHERE user_id = 3")).aggregate);
  CHECK_FALSE(only(parse("SELECT id, row_number() OVER () FROM t")).aggregate);
  CHECK_FALSE(only(parse("SELECT * FROM t LIMIT ALL")).has_limit);
  CHECK(only(parse("SELECT * FROM t FETCH FIRST 3 ROWS ONLY")).has_limit);
  CHECK_FALSE(only(parse("SELECT * FROM t")).has_limit);
}

TEST_CASE("transaction control", "[sql]") {
  const Statement& b = only(parse("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY"));
  CHECK(b.kind == Kind::begin);
  CHECK(b.isolation == IsolationLevel::serializable);
  CHECK(b.read_only);
  const Statement& s = only(parse("start transaction isolation level repeatable read, read write"));
  CHECK(s.isolation == IsolationLevel::repeatable_read);
  CHECK_FALSE(s.read_only);
  const Statement& t = only(parse("SET TRANSACTION ISOLATION LEVEL READ COMMITTED"));
  CHECK(t.kind == Kind::set);
  CHECK(t.isolation == IsolationLevel::read_committed);
  CHECK_FALSE(t.sets_session_default_isolation);
  const Statement& sc = only(parse("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  CHECK(sc.isolation == IsolationLevel::repeatable_read);
  CHECK(sc.sets_session_default_isolation);
  const Statement& d1 = only(parse("SET default_transaction_isolation = 'serializable'"));
  CHECK(d1.isolation == IsolationLevel::serializable);
  CHECK(d1.sets_session_default_isolation);
  // Same shape, other value: must not come back from the cache as serializable.
  const Statement& d2 = only(parse("SET default_transaction_isolation = 'read committed'"));
  CHECK(d2.isolation == IsolationLevel::read_committed);
  const Statement& ti = only(parse("SET transaction_isolation TO 'repeatable read'"));
  CHECK(ti.isolation == IsolationLevel::repeatable_read);
  CHECK_FALSE(ti.sets_session_default_isolation);
  const Statement& ro = only(parse("SET default_transaction_read_only = on"));
  CHECK(ro.read_only);
  Parsed lt = parse("SET LOCAL lock_timeout = '300ms'");
  CHECK(only(lt).setting == "lock_timeout");
  CHECK(only(lt).setting_local);
  CHECK(text_of(lt, only(lt).setting_value) == "300ms");
  CHECK(only(parse("SAVEPOINT active_record_1")).savepoint_name == "active_record_1");
  CHECK(only(parse("ROLLBACK TO SAVEPOINT s2")).savepoint_name == "s2");
  CHECK(only(parse("PREPARE TRANSACTION 'tx-9'")).transaction_gid == "tx-9");
  CHECK(only(parse("BEGIN")).isolation == IsolationLevel::unspecified);
}

TEST_CASE("advisory locks and LOCK TABLE", "[sql]") {
  Parsed p = parse("SELECT pg_advisory_xact_lock($1)");
  const Statement& st = only(p);
  REQUIRE(st.advisory_locks.size() == 1);
  CHECK(st.advisory_locks[0].function == "pg_advisory_xact_lock");
  CHECK(st.advisory_locks[0].transaction_scoped);
  CHECK(st.advisory_locks[0].keys[0].param == 1);
  Parsed two = parse("SELECT pg_try_advisory_lock(42, 7)");
  const AdvisoryLock& l = only(two).advisory_locks.at(0);
  CHECK_FALSE(l.transaction_scoped);
  REQUIRE(l.keys.size() == 2);
  CHECK(text_of(two, l.keys[1]) == "7");
  CHECK(only(parse("SELECT pg_advisory_lock(hashtext('k'))")).advisory_locks.at(0).keys.at(0).kind ==
        Value::Kind::other);
  const Statement& lk = only(parse("LOCK TABLE booking IN SHARE ROW EXCLUSIVE MODE"));
  CHECK(lk.lock_table_mode == "SHARE ROW EXCLUSIVE");
  CHECK(lk.tables.at(0).name == "booking");
  CHECK(only(parse("LOCK booking")).lock_table_mode == "ACCESS EXCLUSIVE");
}

TEST_CASE("pgbench's tpcb-like statements", "[sql]") {
  Parsed upd = parse("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;");
  const Statement& u = only(upd);
  CHECK(u.set_items.at(0).kind == SetItem::Kind::relative);
  CHECK(key(table(u, "pgbench_accounts"), "aid")->values.at(0).param == 2);
  const Statement& sel = only(parse("SELECT abalance FROM pgbench_accounts WHERE aid = 5123;"));
  CHECK(key(sel.tables.at(0), "aid") != nullptr);
  Parsed ins = parse(
      "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 5123, -2047, CURRENT_TIMESTAMP);");
  const Statement& i = only(ins);
  REQUIRE(i.insert->rows.size() == 1);
  CHECK(text_of(ins, i.insert->rows[0][3]) == "-2047");
  CHECK(i.insert->rows[0][4].kind == Value::Kind::other);
}

TEST_CASE("several statements in one text", "[sql]") {
  Parsed p = parse("BEGIN; UPDATE t SET a = 1 WHERE id = 2; COMMIT");
  REQUIRE(p.shape->statements.size() == 3);
  CHECK(p.shape->statements[0].kind == Kind::begin);
  CHECK(p.shape->statements[1].kind == Kind::update);
  CHECK(p.shape->statements[1].normalized == "UPDATE t SET a = $1 WHERE id = $2");
  CHECK(p.shape->statements[2].kind == Kind::commit);
  REQUIRE(p.literals.size() == 2);
  CHECK(text_of(p, key(p.shape->statements[1].tables[0], "id")->values[0]) == "2");

  // One bad statement does not hide the others.
  const std::string text = "BEGIN; SELEC 1; UPDATE t SET a = 'x' WHERE id = 5; COMMIT";
  Parsed bad = parse(text);
  REQUIRE(bad.shape->statements.size() == 4);
  const Statement& broken = bad.shape->statements[1];
  CHECK(broken.kind == Kind::unknown);
  CHECK_FALSE(broken.error.empty());
  CHECK(broken.error_position == static_cast<int>(text.find("SELEC")) + 1);
  CHECK(broken.normalized == "SELEC $1");
  const Statement& upd = bad.shape->statements[2];
  CHECK(upd.kind == Kind::update);
  CHECK(text_of(bad, upd.set_items.at(0).value) == "x");
  CHECK(text_of(bad, key(upd.tables.at(0), "id")->values.at(0)) == "5");
  CHECK(bad.shape->statements[3].kind == Kind::commit);
}

TEST_CASE("tags from sqlcommenter and Marginalia comments", "[sql]") {
  Parsed sc = parse(
      "SELECT * FROM users WHERE id = $1 /*action='index',controller='users',"
      "route='%2Fusers%2F%3Aid',traceparent='00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'*/");
  const Statement& s = only(sc);
  CHECK(s.tags.at("controller") == "users");
  CHECK(s.tags.at("route") == "/users/:id");
  CHECK(s.tags.at("traceparent") == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  CHECK(s.kind == Kind::select);

  Parsed mg = parse("/*application:BCX,controller:project_imports,action:show,line:/app/x.rb:12*/ SELECT 1");
  CHECK(only(mg).tags.at("application") == "BCX");
  CHECK(only(mg).tags.at("line") == "/app/x.rb:12");

  Parsed esc = parse(R"(SELECT 1 /*db_driver='it\'s%20ok'*/)");
  CHECK(only(esc).tags.at("db_driver") == "it's ok");

  CHECK(only(parse("SELECT 1 /* just a note, nothing else */")).tags.empty());
  CHECK(only(parse("SELECT /*controller:x*/ 1")).tags.empty());  // not at an edge

  // Two requests: different traceparents, one cached shape, own tags each.
  Parsed a = parse("SELECT * FROM users WHERE id = $1 /*traceparent='00-a-01'*/");
  Parsed b = parse("SELECT * FROM users WHERE id = $1 /*traceparent='00-b-01'*/");
  CHECK(only(a).tags.at("traceparent") == "00-a-01");
  CHECK(only(b).tags.at("traceparent") == "00-b-01");
  CHECK(only(a).fingerprint == only(b).fingerprint);
  // A loop with static tags reuses one tagged copy; other tags get their own.
  Parsed l1 = parse("SELECT * FROM users WHERE id = 1 /*controller='users',action='show'*/");
  Parsed l2 = parse("SELECT * FROM users WHERE id = 2 /*controller='users',action='show'*/");
  Parsed l3 = parse("SELECT * FROM users WHERE id = 3 /*controller='posts',action='show'*/");
  CHECK(l1.shape == l2.shape);
  CHECK(only(l3).tags.at("controller") == "posts");
  CHECK(only(l2).tags.at("controller") == "users");
  CHECK(l2.literals == std::vector<std::string>{"2"});
}

TEST_CASE("SQL that does not parse", "[sql]") {
  CacheStats before = cache_stats();
  const char* bad[] = {"SELECT * FROM users WHERE id = ", "<insufficient privilege>",
                       "SELECT `id` FROM `users` LIMIT 1", "SELECT * FROM t WHERE x = 'unterminated"};
  for (const char* sql : bad) {
    INFO(sql);
    Parsed p = parse(sql);
    const Statement& st = only(p);
    CHECK(st.kind == Kind::unknown);
    CHECK_FALSE(st.error.empty());
    CHECK(st.error_position > 0);
    CHECK(st.fingerprint != 0);
  }
  CHECK(only(parse("SELECT * FROM users WHERE id = ")).error == "syntax error at end of input");
  CacheStats after = cache_stats();
  CHECK(after.parse_errors - before.parse_errors == 5);

  const Statement& empty = only(parse("  -- nothing\n"));
  CHECK(empty.kind == Kind::unknown);
  CHECK(empty.error.empty());
}
