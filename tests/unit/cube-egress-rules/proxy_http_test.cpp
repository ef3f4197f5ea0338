#include "cube-egress-rules/compiled.hpp"
#include "cube-egress-rules/policy.hpp"
#include "cube-egress-rules/proxy_audit.hpp"
#include "cube-egress-rules/proxy_http_head.hpp"
#include "cube-egress-rules/proxy_http_redact.hpp"
#include "cube-egress-rules/proxy_inject.hpp"
#include "cube-egress-rules/proxy_inject_secrets.hpp"
#include "testing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

using namespace cube;
using namespace cube::egress;
namespace http = boost::beast::http;

TEST(ProxyHttpRedact, HeadersAsTheAuditShowsThem) {
  EXPECT_EQ(redact_header("Authorization", "bearer abc"), "<redacted:Bearer>");
  EXPECT_EQ(redact_header("proxy-authorization", "abc"), "<redacted:raw>");
  EXPECT_EQ(redact_header("Authorization", "  "), "<redacted:unknown>");
  EXPECT_EQ(redact_header("Cookie", "a=1; b=2"), "<redacted; names=a,b>");
  EXPECT_EQ(redact_header("Set-Cookie", "sid=1; Path=/"), "<redacted; names=sid>");
  EXPECT_EQ(redact_header("cookie", "junk"), "<redacted>");
  EXPECT_EQ(redact_header("X-Api-Key", "k"), "<redacted>");
  EXPECT_EQ(redact_header("Keyboard", "qwerty"), "<redacted>");  // over-broad on purpose
  EXPECT_EQ(redact_header("User-Agent", "curl/8"), "curl/8");
}

TEST(ProxyHttpRedact, JsonBodiesLoseTheirSensitiveValuesAtAnyDepth) {
  EXPECT_EQ(redact_body(R"({"user":"u","password":"p","list":[{"api_key":1,"n":2}]})", 1000),
            R"({"list":[{"api_key":"<redacted>","n":2}],"password":"<redacted>","user":"u"})");
  EXPECT_EQ(redact_body(R"({"password":"p"})", 5), R"("<unparsed json: 5 bytes>")");
  EXPECT_EQ(redact_body("plain text", 5), R"("plain")");
}

TEST(ProxyHttpHead, RequestsAsTheRulesSeeThem) {
  auto h = parse_head("GET /v1/../admin?x=1 HTTP/1.1\r\nHost: API.Test:8443\r\n\r\n", "https");
  ASSERT_EQ(h.status, HeadParse::Status::complete);
  EXPECT_EQ(h.request->host, "api.test");
  EXPECT_EQ(h.request->path, "/admin");
  EXPECT_EQ(h.request->method, "GET");
  EXPECT_EQ(h.request->scheme, "https");
  EXPECT_EQ(parse_head("POST http://a/x/y?q HTTP/1.1\r\nHost: a\r\n\r\n", "http").request->path, "/x/y");
  EXPECT_EQ(parse_head("GET / HTTP/1.1\r\nHost: a\r\n", "http").status, HeadParse::Status::need_more);
  EXPECT_EQ(parse_head("\x16\x03\x01 not http\r\n\r\n", "http").status, HeadParse::Status::bad);
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(k_max_request_head, 'a') + "\r\n\r\n";
  EXPECT_EQ(parse_head(big, "http").status, HeadParse::Status::too_large);
}

namespace {

Policy injecting(const std::string& format) {
  return parse_policy(R"({"rules": [{"name": "r", "match": {"sni": "a.test"}, "action": {"allow": true,
      "inject": [{"header": "Authorization", "secret": "s3cr3t", "format": ")" +
                      format + R"("}]}}]})");
}

}  // namespace

TEST(ProxyInject, ForgedHeadersGoAndTheRenderedValueIsSetThenScrubbed) {
  Policy p = injecting("Bearer ${SECRET}!");
  CompiledPolicy c = compile(p);
  SecretStore secrets(p);
  EXPECT_TRUE(p.rules[0].inject[0].secret.empty());  // moved out of the heap copy
  http::fields h;
  h.set("authorization", "Bearer forged");
  strip_injected(h, c.matcher.rule(0));
  EXPECT_EQ(h.find("Authorization"), h.end());
  InjectOutcome o = apply_injects(h, c.matcher.rule(0), &secrets);
  EXPECT_EQ(std::string(h["Authorization"]), "Bearer s3cr3t!");
  EXPECT_EQ(o.injected, std::vector<std::string>{"Authorization"});
  EXPECT_EQ(o.secret_ids[0].substr(0, 3), "fp-");
  EXPECT_TRUE(o.skipped_reason.empty());
  scrub(h, o.injected);
  EXPECT_EQ(std::string(h["Authorization"]).find("s3cr3t"), std::string::npos);
}

TEST(ProxyInject, AMissingSecretIsSkippedAndFormatsWithoutThePlaceholderAreSentAsTheyAre) {
  Policy p = injecting("fixed");
  CompiledPolicy c = compile(p);
  SecretStore secrets(p);
  http::fields h;
  apply_injects(h, c.matcher.rule(0), &secrets);
  EXPECT_EQ(std::string(h["Authorization"]), "fixed");
  http::fields none;
  EXPECT_EQ(apply_injects(none, c.matcher.rule(0), nullptr).skipped_reason, "secret_missing_in_policy");
}

TEST(ProxyInject, ForwardingHeaders) {
  http::fields h;
  h.set(http::field::host, "other.test");
  h.set("X-Forwarded-For", "6.6.6.6");
  h.set("X-Real-IP", "6.6.6.6");
  set_forwarding(h, "https", std::string("a.test"), 0);
  EXPECT_EQ(std::string(h[http::field::host]), "a.test");
  EXPECT_EQ(h.find("X-Forwarded-For"), h.end());
  EXPECT_EQ(h.find("X-Real-IP"), h.end());
  EXPECT_EQ(std::string(h["X-Forwarded-Proto"]), "https");
}

TEST(ProxyAudit, HttpRequestLines) {
  HttpEvent e;
  e.connection = 3;
  e.request = 2;
  e.scheme = "http";
  e.method = "GET";
  e.path = "/a?b";
  e.status = 403;
  e.reason = "rule_deny";
  e.rule = "r";
  e.headers = {{"Cookie", "<redacted; names=a>"}};
  auto j = nlohmann::json::parse(audit_line(e, 0));
  EXPECT_EQ(j["request_id"], "3-2");
  EXPECT_EQ(j["event"], "http_request");
  EXPECT_FALSE(j.contains("tls"));
  EXPECT_FALSE(j.contains("credentials"));
  EXPECT_FALSE(j.contains("security"));
  EXPECT_EQ(j["http"]["path"], "/a?b");
  EXPECT_EQ(j["policy"]["matched_rule"], "r");
  EXPECT_EQ(j["redacted_request_headers"]["Cookie"], "<redacted; names=a>");
  e.scheme = "https";
  e.sni = "a.test";
  e.injected = {"Authorization"};
  e.secret_ids = {"fp-12345678"};
  e.request_body = R"({"a":1})";
  j = nlohmann::json::parse(audit_line(e, 0));
  EXPECT_EQ(j["tls"]["sni"], "a.test");
  EXPECT_EQ(j["credentials"]["secret_ids"][0], "fp-12345678");
  EXPECT_EQ(j["request_body"]["a"], 1);
}
