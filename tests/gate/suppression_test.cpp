#include <catch2/catch.hpp>

#include "analyzers/core/suppression.h"

using pgsift::core::inline_ignored_rules;
using Rules = std::vector<std::string>;

TEST_CASE("suppression: comment forms silence the named rules", "[gate][suppression]") {
  CHECK(inline_ignored_rules("SELECT * FROM items WHERE id = $1 /* pgsift:ignore n-plus-one */") ==
        Rules{"n-plus-one"});
  CHECK(inline_ignored_rules("SELECT 1 -- pgsift-ignore n-plus-one, lock-wait\n") == Rules{"lock-wait", "n-plus-one"});
  CHECK(inline_ignored_rules("SELECT 1 /*controller='orders',pgsift_ignore='n-plus-one%2Crepeated-query'*/") ==
        Rules{"n-plus-one", "repeated-query"});
  CHECK(inline_ignored_rules("/* pgsift:ignore */ UPDATE t SET x = 1") == Rules{"*"});
  CHECK(inline_ignored_rules("SELECT 1 /* pgsift:ignore n-plus-one: batch job, bounded */") == Rules{"n-plus-one"});
  CHECK(inline_ignored_rules("SELECT 1 /* outer /* pgsift:ignore deadlock */ still comment */") == Rules{"deadlock"});
}

TEST_CASE("suppression: markers outside comments do not count", "[gate][suppression]") {
  CHECK(inline_ignored_rules("SELECT * FROM t").empty());
  CHECK(inline_ignored_rules("SELECT 'pgsift:ignore n-plus-one' FROM t").empty());
  CHECK(inline_ignored_rules("SELECT \"pgsift:ignore\" FROM t").empty());
  CHECK(inline_ignored_rules("SELECT $q$ /* pgsift:ignore x */ $q$").empty());
  CHECK(inline_ignored_rules("SELECT E'it\\'s /* pgsift:ignore x */' FROM t").empty());
  CHECK(inline_ignored_rules("SELECT 'a''b' /* pgsift-ignored x */").empty());
  CHECK(inline_ignored_rules("SELECT 1 /* pgsift ignore x */").empty());
}

TEST_CASE("suppression: the index silences findings whose evidence carries the comment", "[gate][suppression]") {
  pgsift::core::SuppressionIndex index;
  pgsift::model::Event event;
  event.header.where = {0, 12};
  pgsift::model::StatementEvent statement;
  statement.sql = "SELECT * FROM items WHERE order_id = 7 /* pgsift:ignore n-plus-one */";
  event.body = statement;
  index.observe(event);
  pgsift::model::Event plain;
  plain.header.where = {0, 13};
  pgsift::model::StatementEvent other;
  other.sql = "SELECT * FROM items WHERE order_id = 8";
  plain.body = other;
  index.observe(plain);
  CHECK(index.locations() == 1);

  pgsift::core::Finding finding;
  finding.rule = "n-plus-one";
  finding.evidence.push_back({"child", 0, 12, 0, 1, "SELECT * FROM items WHERE order_id = $1", -1, {}});
  CHECK(index.suppresses(finding));
  finding.rule = "repeated-query";
  CHECK_FALSE(index.suppresses(finding));
  finding.rule = "n-plus-one";
  finding.evidence[0].line = 13;
  CHECK_FALSE(index.suppresses(finding));
  finding.evidence[0].input = 1;
  finding.evidence[0].line = 12;
  CHECK_FALSE(index.suppresses(finding));
}
