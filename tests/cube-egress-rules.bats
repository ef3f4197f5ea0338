#!/usr/bin/env bats
# cube-egress-rules through the real binary: policies stored, shown, patched, exported and
# imported; every invalid input leaves the state as it was; check decides every match rule and
# gate; concurrent writers; and a planted secret that never reaches any output of this file.
load helpers

# Every output and diagnostic of this file is also appended here; the last test greps it.
ALL="$BATS_FILE_TMPDIR/all-output"
PLANTED="pl4nted-S3CRET-9d1e-c0ffee"

setup() {
  cube_setup
  cat >"$TMP/policy.json" <<JSON
{"allowInternetAccess": true, "allowOut": ["203.0.113.0/24", "*.pypi.org"], "denyOut": ["0.0.0.0/0", "198.51.100.0/24"],
 "dnsServers": ["192.0.2.53"],
 "rules": [
  {"name": "gh", "match": {"sni": "api.github.com", "host": "api.github.com", "method": ["get", "post"], "path": "/repos/*"},
   "action": {"allow": true, "audit": "full", "inject": [{"header": "Authorization", "secret": "$PLANTED", "format": "Bearer \${SECRET}"}]}},
  {"name": "gh-deny", "match": {"sni": "*.github.com"}, "action": {"allow": false}},
  {"name": "exact", "match": {"host": "files.example.com", "path": "/exact"}, "action": {"allow": true, "audit": "none"}},
  {"name": "plain-http", "match": {"host": "example.com", "scheme": "http"},
   "action": {"allow": true, "inject": [{"header": "X-Key", "secret": "$PLANTED-2"}]}},
  {"name": "any-https", "match": {"host": "example.com"},
   "action": {"allow": true, "inject": [{"header": "X-Key", "secret": "$PLANTED-3"}]}}
 ]}
JSON
}
teardown() { cube_teardown; }

egr() {
  local rc=0
  cube-egress-rules "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  cat "$TMP/out" "$TMP/err" >>"$ALL"
  cat "$TMP/out"
  cat "$TMP/err" >&2
  return "$rc"
}

revision() { sqlite3 "$CUBE_STATE" "SELECT revision FROM egress_rules WHERE sandbox_id = '$1'"; }
stored() { sqlite3 "$CUBE_STATE" "SELECT count(*) FROM egress_rules" 2>/dev/null || echo 0; }

@test "set, show, list and delete a policy; the state file is 0600 and holds secrets apart" {
  run --separate-stderr egr set sb-1 --file "$TMP/policy.json" -o json
  assert_success
  [ "$(jq -r '.revision, .rules, .l7, .dns_learning, .resolvers' <<<"$output" | tr '\n' ' ')" = "1 5 true true 1 " ]
  [ "$(stat -c %a "$CUBE_STATE")" = 600 ]
  run --separate-stderr egr show sb-1 -o json
  assert_success
  [ "$(jq -r '.policy.rules[0].action.inject[0].secret' <<<"$output")" = '***REDACTED***' ]
  [[ "$(jq -r '.policy.rules[0].action.inject[0].secretRef' <<<"$output")" =~ ^fp-[0-9a-f]{8}$ ]]
  [ "$(jq -r '.policy.rules[1].name' <<<"$output")" = gh-deny ]
  run --separate-stderr egr show sb-1
  assert_success
  assert_output --partial "Authorization=fp-"
  # The policy column has no secret; egress_secrets has it, by rule and position.
  [ "$(sqlite3 "$CUBE_STATE" "SELECT instr(policy, '$PLANTED') FROM egress_rules")" = 0 ]
  [ "$(sqlite3 "$CUBE_STATE" "SELECT rule || ':' || position FROM egress_secrets ORDER BY rule")" = "$(printf 'any-https:0\ngh:0\nplain-http:0')" ]
  run --separate-stderr egr set sb-1 --file - -o json <"$TMP/policy.json"
  assert_success
  [ "$(revision sb-1)" = 2 ]
  run --separate-stderr egr list -o json
  [ "$(jq -r '.[0] | "\(.sandbox) \(.rules) \(.revision)"' <<<"$output")" = "sb-1 5 2" ]
  run --separate-stderr egr delete sb-1 -o json
  assert_success
  [ "$(jq -r .deleted <<<"$output")" = true ]
  [ "$(sqlite3 "$CUBE_STATE" 'SELECT count(*) FROM egress_secrets')" = 0 ]
  run --separate-stderr egr delete sb-1 -o json
  assert_success
  [ "$(jq -r .deleted <<<"$output")" = false ]
  run --separate-stderr egr show sb-1
  assert_failure 3
  [[ "$stderr" == "cube-egress-rules: error: no egress policy for sandbox sb-1"* ]]
}

@test "the legacy cubevsContext key and the cubeNetworkConfig wrapper are accepted" {
  echo '{"cubevsContext": {"allowOut": ["203.0.113.1"]}}' >"$TMP/legacy.json"
  run --separate-stderr egr set sb-l --file "$TMP/legacy.json" -o json
  assert_success
  echo '{"cubeNetworkConfig": {"allowOut": []}, "cubevsContext": {"allowOut": ["203.0.113.1"]}}' >"$TMP/both.json"
  run --separate-stderr egr set sb-l --file "$TMP/both.json"
  assert_success
  [ "$(egr show sb-l -o json | jq -c .policy.allowOut)" = '[]' ]
}

# Each case: a policy, and a piece of the error it must give. Fields are named with the rule's
# index and name.
bad_policies() {
  cat <<JSON
[]	policy: expected an object
{"rules": {}}	rules: expected an array
{"rules": [1]}	rules[0]: expected an object
{"rules": [{"match": {}}]}	rules[0].name: missing or empty
{"rules": [{"name": "a"}, {"name": "a"}]}	rules[1] "a": name: the same as rules[0]
{"rules": [{"name": "r", "match": "x"}]}	rules[0] "r": match: expected an object
{"rules": [{"name": "r", "match": {"hots": "x"}}]}	rules[0] "r": match: unknown key 'hots'
{"rules": [{"name": "r", "action": 1}]}	rules[0] "r": action: expected an object
{"rules": [{"name": "r", "action": {"allow": "true"}}]}	rules[0] "r": action.allow: missing, or not true or false
{"rules": [{"name": "r", "action": {"allow": true, "audit": "all", "inject": [{"header": "A", "secret": "$PLANTED"}]}}]}	rules[0] "r": action.audit: 'all'
{"rules": [{"name": "r", "action": {"allow": true, "inject": {}}}]}	rules[0] "r": action.inject: expected an array
{"rules": [{"name": "r", "action": {"allow": true, "inject": ["x"]}}]}	rules[0] "r": action.inject[0]: expected an object
{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "", "secret": "$PLANTED"}]}}]}	rules[0] "r": action.inject[0].header: missing or empty
{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "A: b", "secret": "$PLANTED"}]}}]}	rules[0] "r": action.inject[0].header: invalid header name
{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "A"}]}}]}	rules[0] "r": action.inject[0].secret: missing
{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "A", "secret": ""}]}}]}	rules[0] "r": action.inject[0].secret: empty secret
{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "A", "secret": "$PLANTED\\r\\nX-Evil: 1"}]}}]}	action.inject[0].secret: secret contains NUL, CR or LF
{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "A", "secret": "***REDACTED***"}]}}]}	secret is the redaction marker
{"rules": [{"name": "r", "match": {"sni": "10.0.0.1"}}]}	rules[0] "r": match.sni: invalid sni target
{"rules": [{"name": "r", "match": {"host": "bad..name"}}]}	rules[0] "r": match.host: invalid host target
{"rules": [{"name": "r", "match": {"method": "GET"}}]}	rules[0] "r": match.method: expected an array of strings
{"rules": [{"name": "r", "match": {"path": "repos/*"}}]}	rules[0] "r": match.path:
{"rules": [{"name": "r", "match": {"scheme": "ftp"}}]}	rules[0] "r": match.scheme:
{"allowOut": ["   "]}	allowOut[0]: empty target
{"allowOut": ["1.2.3.4/33"]}	allowOut[0]: invalid allow_out CIDR target '1.2.3.4/33'
{"allowOut": ["2001:db8::1"]}	allowOut[0]: unsupported allow_out IP target
{"allowOut": ["1.2.3"]}	allowOut[0]: unsupported allow_out IP target
{"allowOut": ["-bad.example"]}	allowOut[0]: invalid allow_out domain target
{"allowOut": ["pypi.org"]}	allowOut[0]: when specifying allowed domains in allow_out, you must disable public outbound traffic or include '0.0.0.0/0' in deny_out
{"denyOut": ["example.com"]}	denyOut[0]: invalid deny_out target
{"dnsServers": ["resolver"]}	dnsServers[0]: not an IPv4 address
{"allowInternetAccess": "no"}	allowInternetAccess: expected true or false
{"allowOut": "1.2.3.4"}	allowOut: expected an array of strings
{"unknown": 1}	policy: unknown key 'unknown'
{"rules": [{"name": "r", "action": {"inject": [{"secret": "$PLANTED" ]}}]}	policy: not valid JSON (syntax error at byte
JSON
}

@test "every invalid policy exits 2 naming the field, and leaves the state as it was" {
  run --separate-stderr egr set sb-keep --file "$TMP/policy.json"
  assert_success
  before=$(sqlite3 "$CUBE_STATE" 'SELECT policy, revision FROM egress_rules; SELECT * FROM egress_secrets')
  n=0
  while IFS=$'\t' read -r policy want; do
    n=$((n + 1))
    printf '%s\n' "$policy" >"$TMP/bad.json"
    for sb in sb-keep sb-new; do
      run --separate-stderr egr set "$sb" --file "$TMP/bad.json"
      [ "$status" -eq 2 ] || fail "case $n ($sb): exit $status: $policy"
      [[ "$stderr" == *"$want"* ]] || fail "case $n: '$stderr' does not contain '$want'"
      [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "case $n: more than one line: $stderr"
      [ -z "$output" ]
    done
    run --separate-stderr egr validate --file "$TMP/bad.json"
    [ "$status" -eq 2 ] || fail "case $n: validate exit $status"
  done < <(bad_policies)
  [ "$n" -ge 30 ]
  [ "$(sqlite3 "$CUBE_STATE" 'SELECT policy, revision FROM egress_rules; SELECT * FROM egress_secrets')" = "$before" ]
  [ "$(stored)" = 1 ]
}

@test "a secret over 64 KiB is refused without quoting it; 64 KiB is accepted" {
  big=$(head -c 65537 /dev/zero | tr '\0' x)
  printf '{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "A", "secret": "%s%s"}]}}]}' \
    "$PLANTED" "${big:${#PLANTED}}" >"$TMP/big.json"
  run --separate-stderr egr set sb-big --file "$TMP/big.json"
  assert_failure 2
  [[ "$stderr" == *'action.inject[0].secret: secret of 65537 bytes (the limit is 65536 bytes)'* ]]
  [ "$(stored)" = 0 ]
  printf '{"rules": [{"name": "r", "action": {"allow": true, "inject": [{"header": "A", "secret": "%s"}]}}]}' \
    "${big:1}" >"$TMP/max.json"
  run --separate-stderr egr set sb-big --file "$TMP/max.json"
  assert_success
}

@test "limits: 8192 allowed addresses pass, 8193 fail with upstream's message; nothing is stored" {
  python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps({"allowOut": ["10.%d.%d.%d" % (i>>16&255, i>>8&255, i&255) for i in range(n)]}))' 8193 >"$TMP/many.json"
  run --separate-stderr egr set sb-many --file "$TMP/many.json"
  assert_failure 2
  assert_equal "$stderr" "cube-egress-rules: error: allowOut: network.allow_out_v2 exceeds maximum entries: got 8193, max 8192"
  [ "$(stored)" = 0 ]
  python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps({"allowOut": ["10.%d.%d.%d" % (i>>16&255, i>>8&255, i&255) for i in range(n)]}))' 8192 >"$TMP/many.json"
  run --separate-stderr egr set sb-many --file "$TMP/many.json" -o json
  assert_success
  [ "$(jq .allow <<<"$output")" = 8192 ]
}

@test "validate checks without writing, and says what the policy holds" {
  run --separate-stderr egr validate --file "$TMP/policy.json" -o json
  assert_success
  [ "$(jq -c '[.rules, .allow, .deny, .domains, .l7_names]' <<<"$output")" = '[5,2,7,1,4]' ]
  [ ! -e "$CUBE_STATE" ]
  echo '{"allowInternetAccess": false, "denyOut": ["203.0.113.0/24"], "dnsServers": ["2001:db8::53"]}' >"$TMP/warn.json"
  run --separate-stderr egr validate --file "$TMP/warn.json"
  assert_success
  [[ "$stderr" == *"warning: denyOut is ignored"* ]]
  [[ "$stderr" == *"IPv6 resolver '2001:db8::53' skipped"* ]]
}

@test "patch replaces the rule of the same name or appends one; the whole policy is checked again" {
  run --separate-stderr egr patch sb-p --rule - <<<'{"name": "x"}'
  assert_failure 3
  egr set sb-p --file "$TMP/policy.json" >/dev/null
  run --separate-stderr egr patch sb-p --rule - -o json <<<'{"name": "gh-deny", "match": {"sni": "*.github.com"}, "action": {"allow": true}}'
  assert_success
  [ "$(jq .revision <<<"$output")" = 2 ]
  [ "$(egr show sb-p -o json | jq -c '[.policy.rules[] | [.name, .action.allow]]')" = \
    '[["gh",true],["gh-deny",true],["exact",true],["plain-http",true],["any-https",true]]' ]
  run --separate-stderr egr patch sb-p --rule - <<<'{"name": "new", "match": {"host": "new.example"}}'
  assert_success
  [ "$(egr show sb-p -o json | jq -r '.policy.rules[-1].name')" = new ]
  # The secrets of the rules patch did not touch are kept.
  [ "$(sqlite3 "$CUBE_STATE" "SELECT count(*) FROM egress_secrets WHERE secret LIKE '$PLANTED%'")" = 3 ]
  run --separate-stderr egr patch sb-p --rule - <<<'{"name": "bad", "match": {"sni": "1.2.3.4"}}'
  assert_failure 2
  [[ "$stderr" == *'rule "bad": match.sni'* || "$stderr" == *'rules[6] "bad": match.sni'* ]]
  [ "$(revision sb-p)" = 3 ]
}

@test "export redacts; import refuses redacted secrets; --with-secrets moves policies whole" {
  egr set sb-a --file "$TMP/policy.json" >/dev/null
  echo '{"allowOut": ["203.0.113.5"]}' | egr set sb-b --file - >/dev/null
  run --separate-stderr egr export
  assert_success
  [ "$(wc -l <<<"$output")" = 2 ]
  [ "$(jq -r .sandbox <<<"$output" | tr '\n' ' ')" = "sb-a sb-b " ]
  printf '%s\n' "$output" >"$TMP/redacted.jsonl"
  run --separate-stderr egr --state "$TMP/other.db" import --file "$TMP/redacted.jsonl"
  assert_failure 2
  [[ "$stderr" == *"line 1: rules[0] \"gh\": action.inject[0].secret: secret is the redaction marker"* ]]
  [ ! -e "$TMP/other.db" ]  # every line is checked before the state file is opened
  # The explicit export of secrets is the one output that carries them: kept out of $ALL.
  cube-egress-rules export --with-secrets >"$TMP/full.jsonl"
  grep -qF "$PLANTED" "$TMP/full.jsonl"
  run --separate-stderr egr --state "$TMP/other.db" import --file "$TMP/full.jsonl" -o json
  assert_success
  [ "$(jq .imported <<<"$output")" = 2 ]
  [ "$(cube-egress-rules --state "$TMP/other.db" export --with-secrets | jq -c 'del(.revision)')" = \
    "$(jq -c 'del(.revision)' "$TMP/full.jsonl")" ]
  # All or nothing: one bad line and no line is stored.
  { head -1 "$TMP/full.jsonl"; echo '{"sandbox": "../x", "policy": {}}'; } >"$TMP/mixed.jsonl"
  run --separate-stderr egr --state "$TMP/third.db" import --file "$TMP/mixed.jsonl"
  assert_failure 2
  [[ "$stderr" == *"line 2: invalid sandbox ID"* ]]
  [ ! -e "$TMP/third.db" ]
}

# check: one request per line in, one decision per line out.
decisions() {
  egr set sb-c --file "$TMP/policy.json" >/dev/null
  egr check sb-c | jq -c '[.decision, .rule, .reason, (.inject | map(.header) | join(",")), .audit, .security_event, .by]'
}

@test "check: sni and host match exactly and by wildcard, case-insensitively, never the apex" {
  run decisions <<'JSONL'
{"scheme":"https","sni":"api.github.com","host":"api.github.com","method":"GET","path":"/repos/a","dst":"140.82.1.1"}
{"scheme":"https","sni":"API.GitHub.COM.","host":"Api.Github.Com:443","method":"POST","path":"/repos/a?x=1","dst":"140.82.1.1"}
{"scheme":"https","sni":"gist.github.com","dst":"140.82.1.2"}
{"scheme":"https","sni":"github.com","dst":"140.82.1.3"}
{"scheme":"https","sni":"a.b.github.com","dst":"140.82.1.4"}
JSONL
  assert_success
  assert_output - <<'OUT'
["allow","gh","rule_allow","Authorization","full",false,null]
["allow","gh","rule_allow","Authorization","full",false,null]
["deny","gh-deny","rule_deny","","metadata",false,null]
["deny",null,"not_l7_target","","metadata",false,"deny_out:0.0.0.0/0"]
["deny","gh-deny","rule_deny","","metadata",false,null]
OUT
}

@test "check: method, exact and prefix paths, scheme, and path normalisation" {
  run decisions <<'JSONL'
{"scheme":"https","sni":"api.github.com","host":"api.github.com","method":"DELETE","path":"/repos/a","dst":"140.82.1.1"}
{"scheme":"https","sni":"api.github.com","host":"api.github.com","method":"get","path":"/repos/a","dst":"140.82.1.1"}
{"scheme":"https","sni":"api.github.com","host":"api.github.com","method":"GET","path":"/repos/../admin","dst":"140.82.1.1"}
{"scheme":"https","sni":"api.github.com","host":"api.github.com","method":"GET","path":"/repos/","dst":"140.82.1.1"}
{"scheme":"https","sni":"files.example.com","host":"files.example.com","path":"/exact","dst":"93.184.216.1"}
{"scheme":"https","sni":"files.example.com","host":"files.example.com","path":"/exact/more","dst":"93.184.216.1"}
{"scheme":"http","host":"example.com","path":"/","dst":"93.184.216.34"}
JSONL
  assert_success
  assert_output - <<'OUT'
["deny","gh-deny","rule_deny","","metadata",false,null]
["deny","gh-deny","rule_deny","","metadata",false,null]
["deny","gh-deny","rule_deny","","metadata",false,null]
["allow","gh","rule_allow","Authorization","full",false,null]
["allow","exact","rule_allow","","none",false,null]
["deny",null,"no_rule_match","","metadata",true,null]
["allow","plain-http","g1_not_https","","metadata",false,null]
OUT
}

@test "check: injection gates G1 and G4 drop injects and keep the request allowed" {
  run decisions <<'JSONL'
{"scheme":"https","sni":"example.com","host":"example.com","path":"/","dst":"93.184.216.34"}
{"scheme":"https","host":"example.com","path":"/","dst":"93.184.216.34"}
{"scheme":"https","sni":"evil.org","host":"example.com","path":"/","dst":"93.184.216.34"}
{"scheme":"http","host":"example.com","path":"/","dst":"93.184.216.34"}
JSONL
  assert_success
  assert_output - <<'OUT'
["allow","any-https","rule_allow","X-Key","metadata",false,null]
["allow","any-https","g4_missing_sni_or_host","","metadata",true,null]
["allow","any-https","g4_host_sni_mismatch","","metadata",true,null]
["allow","plain-http","g1_not_https","","metadata",false,null]
OUT
  egr set sb-c --file "$TMP/policy.json" >/dev/null
  ref=$(egr show sb-c -o json | jq -r '.policy.rules[4].action.inject[0].secretRef')
  run --separate-stderr egr check sb-c <<<'{"scheme":"https","sni":"example.com","host":"example.com","path":"/","dst":"93.184.216.34"}'
  [ "$(jq -r '.inject[0].secret_ref' <<<"$output")" = "$ref" ]
}

@test "check: requests that are no L7 target follow the address policy" {
  run decisions <<'JSONL'
{"scheme":"https","sni":"files.pypi.org","dst":"151.101.0.1"}
{"scheme":"https","sni":"pypi.org","dst":"151.101.0.1"}
{"scheme":"https","sni":"x.org","dst":"203.0.113.9"}
{"scheme":"https","sni":"x.org","dst":"198.51.100.7"}
{"scheme":"https","sni":"x.org","dst":"10.1.2.3"}
{"scheme":"https","sni":"x.org","dst":"192.0.2.53"}
{"scheme":"https","sni":"x.org"}
JSONL
  assert_success
  assert_output - <<'OUT'
["allow",null,"not_l7_target","","metadata",false,"allow_out_domain:*.pypi.org"]
["deny",null,"not_l7_target","","metadata",false,"deny_out:0.0.0.0/0"]
["allow",null,"not_l7_target","","metadata",false,"allow_out:203.0.113.0/24"]
["deny",null,"not_l7_target","","metadata",false,"deny_out:198.51.100.0/24"]
["deny",null,"not_l7_target","","metadata",false,"private_range:10.0.0.0/8"]
["allow",null,"not_l7_target","","metadata",false,"dns_server:192.0.2.53"]
["deny",null,"not_l7_target","","metadata",false,"no_dst"]
OUT
}

@test "check: internet disabled, resolvers only with domains (#526, #490)" {
  echo '{"allowInternetAccess": false, "dnsServers": ["192.0.2.53"], "allowOut": ["203.0.113.1"]}' | egr set sb-d --file - >/dev/null
  run --separate-stderr egr check sb-d <<<'{"dst":"192.0.2.53"}'
  [ "$(jq -r .by <<<"$output")" = internet_disabled ]
  echo '{"allowInternetAccess": false, "dnsServers": ["192.0.2.53"], "allowOut": ["pypi.org"]}' | egr set sb-d --file - >/dev/null
  run --separate-stderr egr check sb-d <<<'{"dst":"192.0.2.53"}'
  [ "$(jq -r .by <<<"$output")" = dns_server:192.0.2.53 ]
  run --separate-stderr egr check sb-d <<<'{"dst":"203.0.113.1"}'
  [ "$(jq -r .decision <<<"$output")" = deny ]
}

@test "check: a bad line gets an error line and exit 2, the others are still decided; no policy is exit 3" {
  egr set sb-e --file "$TMP/policy.json" >/dev/null
  run --separate-stderr egr check sb-e <<'JSONL'
{"dst":"1.2.3"}
{"scheme":"https","sni":"x.org","dst":"203.0.113.9"}
not json
{"path":"/.."}
JSONL
  assert_failure 2
  [ "$(jq -c '[.line, .exit, .decision]' <<<"$output" | tr '\n' ' ')" = '[1,2,null] [2,null,"allow"] [3,2,null] [4,2,null] ' ]
  run --separate-stderr egr check sb-none <<<'{}'
  assert_failure 3
  run --separate-stderr egr check ../sb <<<'{}'
  assert_failure 2
}

@test "concurrent set from many processes: every write lands whole, revisions count them" {
  egr set sb-race --file "$TMP/policy.json" >/dev/null
  pids=()
  for i in $(seq 1 24); do
    printf '{"rules": [{"name": "r%d", "match": {"host": "h%d.example"}, "action": {"allow": true, "inject": [{"header": "A", "secret": "%s-%d"}]}}]}' \
      "$i" "$i" "$PLANTED" "$i" >"$TMP/race$i.json"
    (cube-egress-rules set sb-race --file "$TMP/race$i.json" >/dev/null 2>"$TMP/race$i.err") &
    pids+=($!)
    (cube-egress-rules set "sb-race-$i" --file "$TMP/race$i.json" >/dev/null 2>>"$TMP/race$i.err") &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  cat "$TMP"/race*.err >>"$ALL"
  [ "$(revision sb-race)" = 25 ]
  [ "$(stored)" = 25 ]
  # The stored policy and its secret come from the same writer.
  name=$(egr show sb-race -o json | jq -r '.policy.rules[0].name')
  [ "$(sqlite3 "$CUBE_STATE" "SELECT rule || ' ' || secret FROM egress_secrets WHERE sandbox_id = 'sb-race'")" = "$name $PLANTED-${name#r}" ]
  cube-egress-rules export --with-secrets >/dev/null  # every secret matches its policy's secretRef
}

@test "config prints the [egress] settings and where each came from" {
  printf '[egress]\ndns_servers = ["192.0.2.53"]\n' >"$CUBE_CONFIG"
  run --separate-stderr egr config -o json
  assert_success
  [ "$(jq -r '.[] | select(.key == "egress.dns_servers") | .source' <<<"$output")" = config ]
  [ "$(jq -r '.[] | select(.key == "egress.max_policy_size") | .value' <<<"$output")" = 16M ]
  echo '{"rules": [{"name": "a", "match": {"host": "api.example"}}]}' | egr set sb-cfg --file - -o json >"$TMP/o"
  [ "$(jq .resolvers "$TMP/o")" = 1 ]
}

@test "diagnostics in every form keep secrets out" {
  echo '{"rules": [{"name": "r", "action": {"allow": true, "audit": "bad", "inject": [{"header": "A", "secret": "'"$PLANTED"'"}]}}]}' >"$TMP/b.json"
  run --separate-stderr egr -vv --log-format json set sb-x --file "$TMP/b.json"
  assert_failure 2
  egr set sb-x --file "$TMP/policy.json" -vv --log-format json >/dev/null 2>&1
  egr show sb-x -o tsv >/dev/null
  egr show sb-x -o jsonl >/dev/null
  egr list -o tsv >/dev/null
  egr export >/dev/null
}

@test "no output or diagnostic of this file contained the planted secret" {
  [ -s "$ALL" ]
  grep -c . "$ALL" >/dev/null
  run grep -F "$PLANTED" "$ALL"
  assert_failure 1
}
