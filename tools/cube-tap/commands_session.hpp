// What the verbs that change TAPs share: the settings, the state file, a netlink socket and the
// data path, bundled as the Env the modules take.
#pragma once

#include "commands.hpp"
#include "datapath.hpp"
#include "lifecycle.hpp"
#include "netlink.hpp"

#include <memory>

namespace cube::tap::cmd {

struct Session {
  Settings settings;
  state::Db db;
  netlink::Socket nl;
  std::unique_ptr<Datapath> datapath = make_datapath(settings);
  Env env{db, nl, *datapath, settings};
  explicit Session(cli::Context& ctx, const SettingFlags& flags = {})
      : settings(cmd::settings(ctx, flags)), db(ctx.open_state(state::Access::write)) {}
};

}  // namespace cube::tap::cmd
