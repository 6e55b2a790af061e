// The shop workload behind the demo log (fixtures/demo/shop.{log,csv,json}).
// It runs on a real PostgreSQL 15 cluster from the harness and contains, among
// ordinary traffic: an N+1 loop (simple and extended protocol), a lock wait, a
// deadlock, a transaction left idle across a slow external call while another
// session waits on its row lock, read-then-write races without FOR UPDATE
// (stock, balance, coupon), and a lock timeout.
//
// As a test it checks that every scenario really reached the server log. With
// PGSIFT_DEMO_OUT set to a directory it also copies the three log files there
// as shop.log, shop.csv and shop.json: that is how scripts/make-demo-log
// regenerates the demo fixture.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/pg_cluster.h"

namespace {

using pgsift::testing::BackgroundStatement;
using pgsift::testing::LogKind;
using pgsift::testing::Param;
using pgsift::testing::PgCluster;
using pgsift::testing::PgSession;
using namespace std::chrono_literals;

using Params = std::vector<Param>;

PgSession shop_session(const PgCluster& pg, const std::string& application) {
  return PgSession(pg.conninfo("shop", "shop") + " application_name=" + application);
}

void create_schema(PgCluster& pg) {
  pg.create_role("shop");
  pg.observer().exec("CREATE DATABASE shop OWNER shop");
  PgSession migrate = shop_session(pg, "shop-migrate");
  migrate.exec(R"(CREATE TABLE customers (
  id    bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name  text NOT NULL
))");
  migrate.exec(R"(CREATE TABLE products (
  id    bigserial PRIMARY KEY,
  sku   text NOT NULL UNIQUE,
  name  text NOT NULL,
  price numeric(10,2) NOT NULL,
  stock integer NOT NULL CHECK (stock >= 0)
))");
  migrate.exec(R"(CREATE TABLE orders (
  id          bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers,
  status      text NOT NULL DEFAULT 'new',
  created_at  timestamptz NOT NULL DEFAULT now()
))");
  migrate.exec(R"(CREATE TABLE order_items (
  id         bigserial PRIMARY KEY,
  order_id   bigint NOT NULL REFERENCES orders,
  product_id bigint NOT NULL REFERENCES products,
  quantity   integer NOT NULL,
  price      numeric(10,2) NOT NULL
))");
  migrate.exec("CREATE INDEX order_items_order_id ON order_items (order_id)");
  migrate.exec(R"(CREATE TABLE accounts (
  id          bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers,
  balance     numeric(12,2) NOT NULL
))");
  migrate.exec(R"(CREATE TABLE coupons (
  code     text PRIMARY KEY,
  discount integer NOT NULL,
  used     boolean NOT NULL DEFAULT false
))");
  migrate.exec(
      "INSERT INTO customers (email, name) SELECT 'customer' || g || '@example.com', 'Customer ' "
      "|| g "
      "FROM generate_series(1, 50) g");
  migrate.exec(
      "INSERT INTO products (sku, name, price, stock) SELECT 'SKU-' || g, 'Product ' || g, 5 + g, "
      "20 "
      "FROM generate_series(1, 30) g");
  migrate.exec("INSERT INTO accounts (customer_id, balance) SELECT id, 100 FROM customers");
  migrate.exec("INSERT INTO coupons (code, discount) VALUES ('WELCOME10', 10), ('SPRING20', 20)");
  migrate.exec(
      "INSERT INTO orders (customer_id, status) SELECT 1 + g % 5, 'shipped' FROM "
      "generate_series(1, 40) g");
  migrate.exec(
      "INSERT INTO order_items (order_id, product_id, quantity, price) "
      "SELECT o.id, 1 + (o.id * k) % 30, 1 + k, 9.99 FROM orders o, generate_series(1, 2) k");
}

// A checkout done right: one transaction, stock taken with a guarded UPDATE.
void checkout(PgSession& web, const std::string& customer, const std::string& product) {
  web.exec("BEGIN");
  const std::string order =
      web.exec_params("INSERT INTO orders (customer_id) VALUES ($1) RETURNING id", {customer})
          .value();
  web.exec_params(
      "INSERT INTO order_items (order_id, product_id, quantity, price) "
      "SELECT $1, id, $2, price FROM products WHERE id = $3",
      {order, "1", product});
  auto taken = web.exec_params(
      "UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1", {"1", product});
  REQUIRE(taken.affected() == 1);
  web.exec("COMMIT");
}

void ordinary_traffic(PgSession& web, int round) {
  for (int i = 1; i <= 4; ++i) {
    const std::string product = std::to_string(1 + (round * 7 + i * 3) % 30);
    web.exec_params("SELECT id, name, price, stock FROM products WHERE id = $1", {product});
  }
  web.exec_params("SELECT id, email, name FROM customers WHERE email = $1",
                  {"customer" + std::to_string(10 + round) + "@example.com"});
  web.exec("SELECT id, name, price FROM products WHERE stock > 0 ORDER BY price LIMIT 10");
  checkout(web, std::to_string(10 + round), std::to_string(11 + round));
}

// N+1: the order history page loads the orders, then the items one order at a
// time; first through an ORM that inlines values (simple protocol), then
// with bind parameters (extended protocol).
void order_history_n_plus_one(PgSession& web) {
  auto orders = web.exec(
      "SELECT id, status, created_at FROM orders WHERE customer_id = 2 ORDER BY id DESC LIMIT 8");
  REQUIRE(orders.rows.size() == 8);
  for (const auto& row : orders.rows) {
    web.exec("SELECT product_id, quantity, price FROM order_items WHERE order_id = " + *row[0]);
  }
  orders = web.exec_params(
      "SELECT id, status, created_at FROM orders WHERE customer_id = $1 ORDER BY id DESC LIMIT 8",
      {"3"});
  REQUIRE(orders.rows.size() == 8);
  for (const auto& row : orders.rows) {
    web.exec_params("SELECT product_id, quantity, price FROM order_items WHERE order_id = $1",
                    {row[0]});
  }
}

// The admin reprices a product inside a transaction that stays open for a
// second; a checkout's stock update waits for it.
void lock_wait(PgCluster& pg, PgSession& admin, PgSession& web) {
  admin.exec("BEGIN");
  admin.exec_params("UPDATE products SET price = price * 1.10 WHERE id = $1", {"1"});
  BackgroundStatement waiting(
      web, "UPDATE products SET stock = stock - $1 WHERE id = $2 AND stock >= $1",
      Params{"1", "1"});
  REQUIRE(waiting.wait_until_lock_wait(pg.observer()));
  std::this_thread::sleep_for(1s);
  admin.exec("COMMIT");
  REQUIRE(waiting.join().ok());
}

// Two transfers lock the same two accounts in opposite order.
void deadlock(PgCluster& pg, PgSession& a, PgSession& b) {
  const std::string transfer = "UPDATE accounts SET balance = balance + $1 WHERE id = $2";
  a.exec("BEGIN");
  b.exec("BEGIN");
  a.exec_params(transfer, {"-10", "1"});
  b.exec_params(transfer, {"-20", "2"});
  BackgroundStatement first(a, transfer, Params{"10", "2"});
  REQUIRE(first.wait_until_lock_wait(pg.observer()));
  pgsift::testing::BackgroundOutcome second;
  try {
    second.result = b.exec_params(transfer, {"20", "1"});
  } catch (const pgsift::testing::PgError& e) {
    second.error = e;
  }
  auto first_outcome = first.join();
  // The deadlock detector aborts exactly one of the two.
  REQUIRE(first_outcome.ok() != second.ok());
  const bool first_lost = !first_outcome.ok();
  REQUIRE((first_lost ? first_outcome.sqlstate() : second.sqlstate()) == "40P01");
  (first_lost ? a : b).exec("ROLLBACK");
  (first_lost ? b : a).exec("COMMIT");
}

// A worker marks an order as paying, then calls the payment provider (1.5 s)
// with the transaction open and the row locked; the customer's cancel waits.
void idle_across_external_call(PgCluster& pg, PgSession& worker, PgSession& web) {
  worker.exec("BEGIN");
  worker.exec_params("SELECT id, status FROM orders WHERE id = $1", {"5"});
  worker.exec_params("UPDATE orders SET status = 'paying' WHERE id = $1", {"5"});
  BackgroundStatement cancel(
      web, "UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status <> 'paid'",
      Params{"5"});
  REQUIRE(cancel.wait_until_lock_wait(pg.observer()));
  std::this_thread::sleep_for(1500ms);  // the "payment gateway" call
  worker.exec_params("UPDATE orders SET status = 'paid' WHERE id = $1", {"5"});
  worker.exec("COMMIT");
  auto outcome = cancel.join();
  REQUIRE(outcome.ok());
}

// Read-then-write without FOR UPDATE, interleaved so both sessions read the
// same value before either writes: a lost stock update, a lost balance
// update, and a coupon redeemed twice.
void check_then_act_races(PgSession& a, PgSession& b) {
  a.exec("BEGIN");
  b.exec("BEGIN");
  const std::string read_stock = "SELECT stock FROM products WHERE id = $1";
  const int stock_a = std::stoi(a.exec_params(read_stock, {"7"}).value());
  const int stock_b = std::stoi(b.exec_params(read_stock, {"7"}).value());
  REQUIRE(stock_a == stock_b);
  a.exec_params("UPDATE products SET stock = $1 WHERE id = $2", {std::to_string(stock_a - 1), "7"});
  a.exec("COMMIT");
  b.exec_params("UPDATE products SET stock = $1 WHERE id = $2", {std::to_string(stock_b - 1), "7"});
  b.exec("COMMIT");

  a.exec("BEGIN");
  b.exec("BEGIN");
  const std::string read_balance = "SELECT balance FROM accounts WHERE id = $1";
  const double balance_a = std::stod(a.exec_params(read_balance, {"3"}).value());
  const double balance_b = std::stod(b.exec_params(read_balance, {"3"}).value());
  a.exec_params("UPDATE accounts SET balance = $1 WHERE id = $2",
                {std::to_string(balance_a - 30), "3"});
  a.exec("COMMIT");
  b.exec_params("UPDATE accounts SET balance = $1 WHERE id = $2",
                {std::to_string(balance_b - 45), "3"});
  b.exec("COMMIT");

  // Autocommit: check, then consume.
  const std::string check = "SELECT used FROM coupons WHERE code = $1";
  REQUIRE(a.exec_params(check, {"WELCOME10"}).value() == "f");
  REQUIRE(b.exec_params(check, {"WELCOME10"}).value() == "f");
  a.exec_params("UPDATE coupons SET used = true WHERE code = $1", {"WELCOME10"});
  b.exec_params("UPDATE coupons SET used = true WHERE code = $1", {"WELCOME10"});

  // The same intent done right, for contrast: lock the row, or let the
  // UPDATE check and act at once.
  a.exec("BEGIN");
  a.exec_params("SELECT stock FROM products WHERE id = $1 FOR UPDATE", {"8"});
  a.exec_params("UPDATE products SET stock = stock - $1 WHERE id = $2", {"1", "8"});
  a.exec("COMMIT");
  auto redeemed = b.exec_params(
      "UPDATE coupons SET used = true WHERE code = $1 AND NOT used RETURNING discount",
      {"SPRING20"});
  REQUIRE(redeemed.rows.size() == 1);
}

// A maintenance job holds an exclusive table lock; the web session gives up
// after its lock_timeout.
void lock_timeout(PgCluster& pg, PgSession& admin, PgSession& web) {
  admin.exec("BEGIN");
  admin.exec("LOCK TABLE coupons IN ACCESS EXCLUSIVE MODE");
  web.exec("SET lock_timeout = '400ms'");
  auto error =
      web.expect_error_params("SELECT discount, used FROM coupons WHERE code = $1", {"SPRING20"});
  REQUIRE(error.sqlstate() == "55P03");
  web.exec("RESET lock_timeout");
  admin.exec("COMMIT");
  (void)pg;
}

void copy_logs_to(PgCluster& pg, const std::filesystem::path& out) {
  std::filesystem::create_directories(out);
  const auto options = std::filesystem::copy_options::overwrite_existing;
  std::filesystem::copy_file(pg.log_paths().stderr_log, out / "shop.log", options);
  std::filesystem::copy_file(pg.log_paths().csvlog, out / "shop.csv", options);
  std::filesystem::copy_file(pg.log_paths().jsonlog, out / "shop.json", options);
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("demo: the shop workload puts every scenario into a real server log", "[pg][demo]") {
  PgCluster pg;
  create_schema(pg);
  {
    PgSession web = shop_session(pg, "shop-web");
    PgSession web2 = shop_session(pg, "shop-web");
    PgSession admin = shop_session(pg, "shop-admin");
    PgSession worker = shop_session(pg, "shop-worker");

    ordinary_traffic(web, 1);
    order_history_n_plus_one(web);
    ordinary_traffic(web2, 2);
    lock_wait(pg, admin, web);
    ordinary_traffic(web, 3);
    deadlock(pg, web, web2);
    idle_across_external_call(pg, worker, web);
    ordinary_traffic(web2, 4);
    check_then_act_races(web, web2);
    lock_timeout(pg, admin, web);
    ordinary_traffic(web, 5);
  }
  // Stopping the server flushes the logging collector (and logs the shutdown,
  // as a real log would end).
  pg.stop();

  const std::string log = pg.read_log();
  CHECK(count(log,
              "statement: SELECT product_id, quantity, price FROM order_items WHERE order_id = ") ==
        8);
  CHECK(count(log,
              "execute <unnamed>: SELECT product_id, quantity, price FROM order_items WHERE "
              "order_id = $1") == 8);
  CHECK(count(log, "still waiting for ShareLock on transaction") >= 2);
  CHECK(count(log, "acquired ShareLock on transaction") >= 2);
  CHECK(count(log, "ERROR:  deadlock detected") == 1);
  CHECK(count(log, "ERROR:  canceling statement due to lock timeout") == 1);
  CHECK(count(log, "still waiting for AccessShareLock on relation") == 1);
  CHECK(count(log, "execute <unnamed>: SELECT used FROM coupons WHERE code = $1") == 2);
  CHECK(count(log, "execute <unnamed>: UPDATE orders SET status = 'paid'") == 1);
  for (LogKind kind : {LogKind::csvlog, LogKind::jsonlog}) {
    const std::string other = pg.read_log(kind);
    CHECK(count(other, "deadlock detected") == 1);
    CHECK(count(other, "execute <unnamed>: SELECT used FROM coupons WHERE code = $1") == 2);
  }
  const char* out = std::getenv("PGSIFT_DEMO_OUT");
  if (out != nullptr && *out != '\0') copy_logs_to(pg, out);
}
