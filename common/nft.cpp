#include "nft.hpp"

#include "error.hpp"

#include <fmt/format.h>
#include <nftables/libnftables.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older headers lack the name
#endif

namespace cube::nft {
namespace {

// libnftables fills its cache for the first command that needs one, and gives every table in it four
// hash tables of 128 KiB (8192 list heads, all written at once): with two tables, 256 pages that
// each fault in on their own, ~10 us apiece on a VM, a tenth of `cube-egress-rules set --apply`.
// A short command keeps the memory it frees (keep_freed_memory() in cli.cpp), so 2 MiB of heap
// faulted in with one madvise and freed at once is where those tables land. Best effort: a kernel
// before 5.14 refuses the advice and the pages fault in one by one, as before.
void prefault_heap() {
  static const bool done = [] {
    constexpr size_t k_size = 2 << 20, k_page = 4096;
    void* block = std::malloc(k_size);
    if (!block) return false;
    auto begin = (reinterpret_cast<uintptr_t>(block) + k_page - 1) & ~(k_page - 1);
    auto end = (reinterpret_cast<uintptr_t>(block) + k_size) & ~(k_page - 1);
    ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
    std::free(block);
    return true;
  }();
  (void)done;
}

}  // namespace

void Context::Free::operator()(nft_ctx* c) const { nft_ctx_free(c); }

Context::Context() : m_ctx((prefault_heap(), nft_ctx_new(NFT_CTX_DEFAULT))) {
  if (!m_ctx) throw Error(Exit::failed, "creating an nftables context", "out of memory");
  if (nft_ctx_buffer_output(m_ctx.get()) != 0 || nft_ctx_buffer_error(m_ctx.get()) != 0)
    throw Error(Exit::failed, "creating an nftables context", "cannot buffer its output");
}

Context::~Context() = default;

std::string Context::run(std::string_view commands, std::string_view doing) {
  std::string text(commands);
  int rc = nft_run_cmd_from_buffer(m_ctx.get(), text.c_str());
  std::string out = nft_ctx_get_output_buffer(m_ctx.get());
  std::string err = nft_ctx_get_error_buffer(m_ctx.get());
  if (rc != 0) {
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    std::string hint =
        err.find("Operation not permitted") != std::string::npos ? "run as root or with CAP_NET_ADMIN" : "";
    throw Error(Exit::failed, std::string(doing), err.empty() ? "nftables refused it" : err, hint);
  }
  return out;
}

std::string Context::list(std::string_view command, unsigned output_flags, std::string_view doing) {
  unsigned before = nft_ctx_output_get_flags(m_ctx.get());
  nft_ctx_output_set_flags(m_ctx.get(), before | output_flags);
  struct Restore {
    nft_ctx* ctx;
    unsigned flags;
    ~Restore() { nft_ctx_output_set_flags(ctx, flags); }
  } restore{m_ctx.get(), before};
  return run(command, doing);
}

bool Context::table_exists(std::string_view family, std::string_view name) {
  try {
    run(fmt::format("list table {} {}", family, name), "listing a table");
    return true;
  } catch (const Error& e) {
    if (e.why().find("No such file or directory") != std::string::npos) return false;
    throw;
  }
}

std::string delete_table_commands(std::string_view family, std::string_view name) {
  return fmt::format("add table {0} {1}\ndelete table {0} {1}\n", family, name);
}

}  // namespace cube::nft
