// The verbs of cube-sched but place: the node registry, heartbeat, release, allocations, config.
#include "commands.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "heartbeat.hpp"
#include "ids.hpp"
#include "json_writer.hpp"
#include "log.hpp"
#include "quantity.hpp"
#include "registry.hpp"
#include "timeutil.hpp"
#include "units.hpp"

#include <arpa/inet.h>

namespace cube::sched::cmd {
namespace {

constexpr size_t k_max_labels = 64;

void check_address(const std::string& addr) {
  unsigned char buf[16];
  if (addr.empty() || inet_pton(AF_INET, addr.c_str(), buf) == 1 || inet_pton(AF_INET6, addr.c_str(), buf) == 1) return;
  throw Error(Exit::usage, fmt::format("invalid --address '{}'", addr.substr(0, 80)),
              "expected an IPv4 or IPv6 address");
}

Labels parse_labels(const std::vector<std::string>& items) {
  if (items.size() > k_max_labels)
    throw Error(Exit::usage, fmt::format("{} labels given", items.size()),
                fmt::format("the limit is {}", k_max_labels));
  Labels out;
  for (const auto& item : items) {
    size_t eq = item.find('=');
    std::string key = item.substr(0, eq);
    bool ok = eq != std::string::npos && !key.empty() && key.size() <= 253;
    for (char c : key)
      ok = ok &&
           (std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._/-").find(c) != std::string_view::npos);
    if (!ok)
      throw Error(Exit::usage, fmt::format("invalid --label '{}'", item.substr(0, 80)),
                  "expected KEY=VALUE, KEY at most 253 bytes of letters, digits, '.', '_', '/' and '-'");
    check_label_value(item.substr(eq + 1), fmt::format("value of label {}", key));
    out.emplace_back(key, item.substr(eq + 1));
  }
  return out;
}

std::string labels_text(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

struct Health {
  health::Status status;
  std::string age;  // "12s", or "never"
};

Health health_of(const NodeRow& r, int64_t now, const Policy& p) {
  return {health::evaluate(r.heartbeat_ms, r.ready, now, p.heartbeat_timeout_ms),
          r.heartbeat_ms > 0 ? time::age(now - r.heartbeat_ms) : "never"};
}

output::Table node_table() {
  using output::Align;
  return output::Table({{"id", "NODE"},
                        {"healthy", "HEALTHY"},
                        {"reason", "REASON"},
                        {"heartbeat_age", "HEARTBEAT"},
                        {"cordoned", "CORDONED"},
                        {"instance_type", "TYPE"},
                        {"zone", "ZONE"},
                        {"cpu_m", "CPU(m)", Align::right},
                        {"cpu_effective_m", "CPU EFF", Align::right},
                        {"cpu_allocated_m", "CPU ALLOC", Align::right},
                        {"mem_bytes", "MEM", Align::right},
                        {"mem_effective_bytes", "MEM EFF", Align::right},
                        {"mem_allocated_bytes", "MEM ALLOC", Align::right},
                        {"sandboxes", "SANDBOXES", Align::right},
                        {"cpu_util", "CPU%", Align::right},
                        {"mem_free_bytes", "MEM FREE", Align::right},
                        {"disk_used", "DISK%", Align::right},
                        {"creating", "CREATING", Align::right},
                        {"heartbeat_ms", "HEARTBEAT MS", Align::right},
                        {"address", "ADDRESS"}});
}

void add_node_row(output::Table& t, const NodeRow& r, int64_t now, const Policy& p) {
  Health h = health_of(r, now, p);
  Ratios ratios = p.ratios_for(r.reg.instance_type);
  using output::Style;
  t.add({r.reg.id,
         output::Cell(h.status.healthy, h.status.healthy ? Style::good : Style::bad),
         std::string(health::reason_name(h.status.reason)),
         h.age,
         output::Cell(r.cordoned, r.cordoned ? Style::warn : Style::plain),
         r.reg.instance_type,
         r.reg.zone,
         r.reg.cpu_m,
         effective_quota(r.reg.cpu_m, ratios.cpu),
         r.alloc_cpu_m,
         r.reg.mem_bytes,
         effective_quota(r.reg.mem_bytes, ratios.mem),
         r.alloc_mem,
         r.sandboxes,
         r.cpu_util,
         r.mem_free,
         r.disk_used,
         r.creating,
         r.heartbeat_ms,
         r.reg.address});
}

}  // namespace

Settings settings(cli::Context& ctx) {
  config::Settings s(ctx.config(), "sched");
  return load_settings(s);
}

cluster::Target cluster_target(cli::Context& ctx) {
  cluster::Choice c = ctx.cluster_choice();
  return {c.url, c.url.empty() ? ctx.state_path() : ""};
}

std::unique_ptr<cluster::Store> open_cluster(cli::Context& ctx, cluster::Access access) {
  auto store = cluster::open(cluster_target(ctx), access);
  log::debug("cluster store: {}", store->where());  // a URL's password never prints (redacted)
  return store;
}

void node_register(cli::Context& ctx, const RegisterArgs& a) {
  ids::check(a.id, "node ID");
  Registration reg;
  reg.id = a.id;
  reg.cpu_m = parse_millicores(a.cpu, "--cpu");
  reg.mem_bytes = static_cast<int64_t>(units::parse_size(a.mem, "--mem"));
  if (reg.mem_bytes <= 0) throw Error(Exit::usage, "invalid --mem '0'", "expected a positive size");
  check_label_value(a.instance_type, "--instance-type");
  check_label_value(a.zone, "--zone");
  check_label_value(a.cluster_id, "--cluster-id");
  check_label_value(a.cpu_type, "--cpu-type");
  check_address(a.address);
  if (a.max_sandboxes < 0) throw Error(Exit::usage, "invalid --max-sandboxes", "expected 0 (the default) or more");
  reg.instance_type = a.instance_type;
  reg.zone = a.zone;
  reg.cluster_id = a.cluster_id;
  reg.cpu_type = a.cpu_type;
  reg.address = a.address;
  reg.max_sandboxes = a.max_sandboxes;
  reg.labels = parse_labels(a.labels);
  Policy p = settings(ctx).policy;
  auto store = open_cluster(ctx, cluster::Access::write);
  for (const auto& key : register_node(*store, reg))
    log::warn(
        "label '{}' is canonical and comes from the node's own fields (--zone, --cluster-id, --cpu-type, "
        "--mem, --cpu, --instance-type); the given value is ignored",
        key);
  output::Table t = node_table();
  int64_t now = time::now_ms();
  add_node_row(t, get_node(*store, a.id, p.creating_after(now)), now, p);
  output::print_record(t, ctx.format());
}

void node_list(cli::Context& ctx) {
  Policy p = settings(ctx).policy;
  auto store = open_cluster(ctx, cluster::Access::read);
  output::Table t = node_table();
  int64_t now = time::now_ms();
  for (const auto& r : load_nodes(*store, false, p.creating_after(now))) add_node_row(t, r, now, p);
  output::print(t, ctx.format());
}

void node_show(cli::Context& ctx, const NodeArgs& a) {
  Policy p = settings(ctx).policy;
  auto store = open_cluster(ctx, cluster::Access::read);
  int64_t now = time::now_ms();
  NodeRow r = get_node(*store, a.id, p.creating_after(now));
  Labels all = r.reg.labels;
  for (auto& l : canonical_labels(r.reg.zone, r.reg.cluster_id, r.reg.cpu_type, r.reg.mem_bytes, r.reg.cpu_m,
                                  r.reg.instance_type))
    all.push_back(std::move(l));
  std::sort(all.begin(), all.end());
  if (ctx.format() == output::Format::json || ctx.format() == output::Format::jsonl) {
    Health h = health_of(r, now, p);
    json::Writer w;
    w.begin_object();
    w.field("id", r.reg.id);
    w.field("healthy", h.status.healthy);
    w.field("reason", health::reason_name(h.status.reason));
    w.field("heartbeat_ms", r.heartbeat_ms);
    w.field("cordoned", r.cordoned);
    w.field("cpu_m", r.reg.cpu_m);
    w.field("mem_bytes", r.reg.mem_bytes);
    w.field("cpu_allocated_m", r.alloc_cpu_m);
    w.field("mem_allocated_bytes", r.alloc_mem);
    w.field("sandboxes", r.sandboxes);
    w.field("creating", r.creating);
    w.field("disk_used", r.disk_used);
    w.key("labels");
    w.begin_object();
    for (const auto& [k, v] : all) w.field(k, v);
    w.end_object();
    w.end_object();
    output::write(w.str() + "\n");
    return;
  }
  output::Table t = node_table();
  add_node_row(t, r, now, p);
  auto cols = t.columns();
  cols.push_back({"labels", "LABELS"});
  output::Table with_labels(cols);
  auto row = t.rows().front();
  row.push_back(labels_text(all));
  with_labels.add(row);
  output::print_record(with_labels, ctx.format());
}

void node_remove(cli::Context& ctx, const RemoveArgs& a) {
  int64_t dropped = remove_node(*open_cluster(ctx, cluster::Access::write), a.id, a.force);
  if (dropped > 0) log::warn("node '{}' removed with its {} allocation(s)", a.id, dropped);
  log::info("node '{}' removed", a.id);
}

void node_cordon(cli::Context& ctx, const NodeArgs& a) {
  set_cordoned(*open_cluster(ctx, cluster::Access::write), a.id, true);
  log::info("node '{}' cordoned", a.id);
}

void node_uncordon(cli::Context& ctx, const NodeArgs& a) {
  set_cordoned(*open_cluster(ctx, cluster::Access::write), a.id, false);
  log::info("node '{}' uncordoned", a.id);
}

void heartbeat(cli::Context& ctx, const HeartbeatArgs& a) {
  ids::check(a.id, "node ID");
  HeartbeatInput in;
  in.ready = !a.not_ready;
  if (a.cpu_util && !(*a.cpu_util >= 0 && *a.cpu_util <= 100))
    throw Error(Exit::usage, fmt::format("invalid --cpu-util {}", *a.cpu_util), "expected a percentage, 0 to 100");
  in.cpu_util = a.cpu_util;
  if (a.mem_free) in.mem_free = static_cast<int64_t>(units::parse_size(*a.mem_free, "--mem-free"));
  if (a.disk_used && !(*a.disk_used >= 0 && *a.disk_used <= 100))
    throw Error(Exit::usage, fmt::format("invalid --disk-used {}", *a.disk_used), "expected a percentage, 0 to 100");
  in.disk_used = a.disk_used;
  in.disk_path = settings(ctx).disk_path;
  if (!in.disk_used && !in.disk_path.empty()) disk_used_percent(in.disk_path);  // a wrong path fails now
  if (in.disk_path.empty()) in.disk_path = fs::dirname(ctx.state_path());
  std::optional<int64_t> interval;
  if (a.loop) interval = units::parse_duration_ms(*a.loop, "--loop");
  if (interval && *interval <= 0) throw Error(Exit::usage, "invalid --loop 0", "expected a positive interval");
  std::optional<CpuTimes> since;
  auto report = [&] {
    Heartbeat hb = measure(in, since);
    record_heartbeat(*open_cluster(ctx, cluster::Access::write), a.id, hb);
    log::info("heartbeat {}: cpu {:.1f}%, mem free {}, disk {:.1f}%, {}", a.id, hb.cpu_util,
              units::format_size(hb.mem_free), hb.disk_used, hb.ready ? "ready" : "not ready");
  };
  if (!interval) return report();
  since = read_cpu_times();  // the first report's CPU figure covers the first wait
  run_loop(*interval, report);
}

void release(cli::Context& ctx, const ReleaseArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  Allocation freed = sched::release(*open_cluster(ctx, cluster::Access::write), a.sandbox);
  log::info("released sandbox '{}' from node '{}'", freed.sandbox, freed.node);
}

void started(cli::Context& ctx, const ReleaseArgs& a) {
  ids::check(a.sandbox, "sandbox ID");
  Allocation s = mark_started(*open_cluster(ctx, cluster::Access::write), a.sandbox, time::now_ms());
  log::info("sandbox '{}' on node '{}' started {}", s.sandbox, s.node, time::rfc3339_ms(s.started_ms));
}

void alloc_list(cli::Context& ctx, const AllocListArgs& a) {
  auto store = open_cluster(ctx, cluster::Access::read);
  using output::Align;
  output::Table t({{"sandbox", "SANDBOX"},
                   {"node", "NODE"},
                   {"cpu_m", "CPU(m)", Align::right},
                   {"mem_bytes", "MEM", Align::right},
                   {"created", "CREATED"},
                   {"started", "STARTED"}});
  for (const auto& row : list_allocations(*store, a.node))
    t.add({row.sandbox, row.node, row.cpu_m, row.mem_bytes, time::rfc3339_ms(row.created_ms),
           row.started_ms ? output::Cell(time::rfc3339_ms(row.started_ms)) : output::Cell()});
  output::print(t, ctx.format());
}

void config(cli::Context& ctx) {
  config::Settings s(ctx.config(), "sched");
  load_settings(s);
  cluster::Choice where = ctx.cluster_choice();
  cli::print_settings(s, ctx.format(), &where);
}

}  // namespace cube::sched::cmd
