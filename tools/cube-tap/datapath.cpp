#include "datapath.hpp"

namespace cube::tap {
namespace {

// The kernel stack alone: routes, neighbours and nftables do all the work.
class KernelOnly final : public Datapath {
 public:
  void attach(const SandboxTap&) override {}
  void detach(const SandboxTap&) override {}
  void reconcile(const std::vector<SandboxTap>&) override {}
  void remove_all() override {}
};

}  // namespace

std::unique_ptr<Datapath> make_datapath() { return std::make_unique<KernelOnly>(); }

}  // namespace cube::tap
