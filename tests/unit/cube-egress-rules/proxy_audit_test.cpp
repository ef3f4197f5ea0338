#include "cube-egress-rules/proxy_audit.hpp"
#include "cube-egress-rules/policy.hpp"
#include "cube-egress-rules/proxy_snapshot.hpp"
#include "cube-egress-rules/store.hpp"
#include "fs.hpp"
#include "ipv4.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace cube;
using namespace cube::egress;

TEST(ProxyAudit, KeysWithoutAValueAreLeftOut) {
  ConnEvent e;
  e.event = "security_event";
  e.connection = 7;
  e.src = *ipv4::parse_address("10.0.0.2");
  e.dst = *ipv4::parse_address("198.51.100.10");
  e.dst_port = 443;
  e.security_reason = "unknown_source";
  auto j = nlohmann::json::parse(audit_line(e, 0));
  EXPECT_EQ(j["ts"], "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(j["request_id"], "tls-7");
  EXPECT_EQ(j["sandbox"], nlohmann::json({{"src_ip", "10.0.0.2"}}));
  EXPECT_EQ(j["conn"]["original_dst_port"], 443);
  EXPECT_FALSE(j.contains("tls"));
  EXPECT_FALSE(j.contains("relay"));
  EXPECT_EQ(j["policy"], nlohmann::json({{"decision", "deny"}}));
  EXPECT_EQ(j["security"]["reason"], "unknown_source");
  e.event = "tls_passthrough";
  e.security_reason.clear();
  e.sni = "a.example";
  e.alpn = {"h2"};
  e.allow = true;
  e.rule = "r";
  e.bytes_up = 10;
  e.bytes_down = 20;
  e.duration_ms = 5;
  j = nlohmann::json::parse(audit_line(e, 0));
  EXPECT_EQ(j["tls"], nlohmann::json({{"sni", "a.example"}, {"client_alpn", {"h2"}}}));
  EXPECT_EQ(j["relay"], nlohmann::json({{"bytes_up", 10}, {"bytes_down", 20}, {"duration_ms", 5}}));
  EXPECT_FALSE(j.contains("security"));
}

TEST(ProxyAudit, FileIs0640AndReopensAfterARotation) {
  test::TempDir dir;
  test::Umask um(0);
  AuditLog log(dir / "audit.jsonl");
  ConnEvent e;
  e.event = "security_event";
  log.write(e);
  EXPECT_EQ(test::mode_of(dir / "audit.jsonl"), 0640);
  ASSERT_EQ(::rename((dir / "audit.jsonl").c_str(), (dir / "audit.jsonl.1").c_str()), 0);
  log.reopen();
  log.write(e);
  log.write(e);
  EXPECT_EQ(fs::read_file(dir / "audit.jsonl.1", 1 << 20).size() * 2,
            fs::read_file(dir / "audit.jsonl", 1 << 20).size());
}

TEST(ProxySnapshot, SourcesBindOnlyInUseTapsAndUnchangedPoliciesAreReused) {
  test::TempDir dir;
  std::string file = dir / "state.db";
  {
    state::Db db = state::Db::open(file, state::Access::write);
    db.exec(
        "INSERT INTO taps (name, address, addr_index, sandbox_id, state, created_ms, updated_ms) VALUES "
        "('z0a000002', '10.0.0.2', 2, 'sb-1', 'in_use', 0, 0), "
        "('z0a000003', '10.0.0.3', 3, 'sb-2', 'in_use', 0, 0), "
        "('z0a000004', '10.0.0.4', 4, NULL, 'pooled', 0, 0)");
    state::Transaction tx(db);
    put(db, "sb-1", parse_policy(R"({"rules": []})"), 1);
    tx.commit();
  }
  state::Db db = state::Db::open(file, state::Access::read);
  auto s1 = load_snapshot(db, {}, nullptr);
  auto ip = [](const char* t) { return *ipv4::parse_address(t); };
  EXPECT_EQ(find_source(*s1, ip("10.0.0.2")).status, Lookup::Status::ok);
  EXPECT_EQ(find_source(*s1, ip("10.0.0.3")).status, Lookup::Status::no_policy);
  EXPECT_EQ(find_source(*s1, ip("10.0.0.4")).status, Lookup::Status::unknown_source);
  EXPECT_EQ(find_source(*s1, ip("10.0.0.9")).status, Lookup::Status::unknown_source);
  auto s2 = load_snapshot(db, {}, s1.get());
  EXPECT_EQ(s2->policies.at("sb-1").policy, s1->policies.at("sb-1").policy);  // the same compiled object
  Watcher w(db);
  EXPECT_FALSE(w.changed());
  {
    state::Db writer = state::Db::open(file, state::Access::write);
    state::Transaction tx(writer);
    put(writer, "sb-1", parse_policy(R"({"allowInternetAccess": false})"), 2);
    tx.commit();
  }
  EXPECT_TRUE(w.changed());
  auto s3 = load_snapshot(db, {}, s2.get());
  EXPECT_NE(s3->policies.at("sb-1").policy, s1->policies.at("sb-1").policy);
  EXPECT_FALSE(s3->policies.at("sb-1").policy->internet);
}
